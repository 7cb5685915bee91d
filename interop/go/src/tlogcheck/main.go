// Command tlogcheck is an independent oracle for warrant-ledger's SHA-256 profile: it
// recomputes roots and proofs with Go's golang.org/x/mod/sumdb/tlog and signs and opens
// notes with golang.org/x/mod/sumdb/note. interop/go-check.sh compares its answers with
// the warrant CLI's.
//
// Usage:
//
//	tlogcheck tree ENTRIES SIZE INDEX OLD   # JSON: root, inclusion path, consistency path (hex)
//	tlogcheck keygen NAME                   # signer key, then verifier key
//	tlogcheck sign SKEYFILE < text          # signed note
//	tlogcheck open VKEY < note              # prints the text; exit 1 if not verified
//	tlogcheck tiles URL VKEY                # reads a running ledger server's tlog-tiles API
//	tlogcheck tlogproof VKEY PROOF ENTRY    # verifies a C2SP tlog-proof of ENTRY's bytes
package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("index %d out of range", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

func hexes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h[:])
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tlogcheck:", err)
	os.Exit(2)
}

func atoi(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fail(err)
	}
	return n
}

func tree(path string, size, index, old int64) {
	data, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	var stored memHashes
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for n, line := range lines {
		entry, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			fail(err)
		}
		hs, err := tlog.StoredHashes(int64(n), entry, stored)
		if err != nil {
			fail(err)
		}
		stored = append(stored, hs...)
	}
	root, err := tlog.TreeHash(size, stored)
	if err != nil {
		fail(err)
	}
	incl, err := tlog.ProveRecord(size, index, stored)
	if err != nil {
		fail(err)
	}
	cons, err := tlog.ProveTree(size, old, stored)
	if err != nil {
		fail(err)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"root":        hex.EncodeToString(root[:]),
		"inclusion":   hexes(incl),
		"consistency": hexes(cons),
	})
}

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: see the package comment"))
	}
	switch os.Args[1] {
	case "tree":
		tree(os.Args[2], atoi(os.Args[3]), atoi(os.Args[4]), atoi(os.Args[5]))
	case "tiles":
		tiles(os.Args[2], os.Args[3])
	case "tlogproof":
		tlogProof(os.Args[2], os.Args[3], os.Args[4])
	case "keygen":
		skey, vkey, err := note.GenerateKey(nil, os.Args[2])
		if err != nil {
			fail(err)
		}
		fmt.Println(skey)
		fmt.Println(vkey)
	case "sign":
		skey, err := os.ReadFile(os.Args[2])
		if err != nil {
			fail(err)
		}
		signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
		if err != nil {
			fail(err)
		}
		text, _ := io.ReadAll(os.Stdin)
		msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(msg)
	case "open":
		v, err := note.NewVerifier(os.Args[2])
		if err != nil {
			fail(err)
		}
		msg, _ := io.ReadAll(os.Stdin)
		n, err := note.Open(msg, note.VerifierList(v))
		if err != nil {
			fmt.Fprintln(os.Stderr, "tlogcheck: open:", err)
			os.Exit(1)
		}
		fmt.Print(n.Text)
	default:
		fail(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}

// httpTiles reads C2SP tlog-tiles paths (tile/<L>/<N>[.p/<W>], no height element, unlike
// sumdb's own tile/<H>/<L>/... paths) from a server.
type httpTiles struct {
	base  string
	reads int
}

func (h *httpTiles) Height() int { return 8 }

func (h *httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := get(h.base + "/" + c2spPath(fmt.Sprint(t.L), t.N, t.W))
		if err != nil {
			return nil, err
		}
		h.reads++
		out[i] = data
	}
	return out, nil
}

func (h *httpTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// c2spPath writes N in three-digit groups, all but the last prefixed with x.
func c2spPath(level string, n int64, w int) string {
	groups := fmt.Sprintf("%03d", n%1000)
	for n /= 1000; n > 0; n /= 1000 {
		groups = fmt.Sprintf("x%03d/", n%1000) + groups
	}
	path := "tile/" + level + "/" + groups
	if w < 256 {
		path += fmt.Sprintf(".p/%d", w)
	}
	return path
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// tiles opens the server's checkpoint with sumdb/note, lets sumdb/tlog read the hash tiles
// (TileHashReader checks every tile it reads against the checkpoint's root), recomputes
// the root, checks every entry of the entry bundles against its leaf hash, and proves and
// checks each entry's inclusion.
func tiles(base, vkey string) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		fail(err)
	}
	body, err := get(base + "/checkpoint")
	if err != nil {
		fail(err)
	}
	n, err := note.Open(body, note.VerifierList(v))
	if err != nil {
		fail(err)
	}
	lines := strings.Split(n.Text, "\n")
	size := atoi(lines[1])
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail(fmt.Errorf("checkpoint root %q", lines[2]))
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	reader := &httpTiles{base: base}
	hashes := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, reader)
	got, err := tlog.TreeHash(size, hashes)
	if err != nil {
		fail(err)
	}
	if got != root {
		fail(fmt.Errorf("root from tiles %x, checkpoint %x", got, root))
	}
	checked := int64(0)
	for start := int64(0); start < size; start += 256 {
		w := int(size - start)
		if w > 256 {
			w = 256
		}
		bundle, err := get(base + "/" + c2spPath("entries", start/256, w))
		if err != nil {
			fail(err)
		}
		for i := int64(0); i < int64(w); i++ {
			if len(bundle) < 2 {
				fail(fmt.Errorf("bundle %d ends early", start/256))
			}
			l := int(bundle[0])<<8 | int(bundle[1])
			entry := bundle[2 : 2+l]
			bundle = bundle[2+l:]
			proof, err := tlog.ProveRecord(size, start+i, hashes)
			if err != nil {
				fail(err)
			}
			if err := tlog.CheckRecord(proof, size, root, start+i, tlog.RecordHash(entry)); err != nil {
				fail(fmt.Errorf("entry %d: %v", start+i, err))
			}
			checked++
		}
		if len(bundle) != 0 {
			fail(fmt.Errorf("bundle %d has %d bytes too many", start/256, len(bundle)))
		}
	}
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"size": size, "tile_reads": reader.reads, "entries_checked": checked,
	})
}

// tlogProof verifies a C2SP tlog-proof with sumdb/note (the checkpoint's log signature)
// and sumdb/tlog (the RFC 6962 inclusion path from the entry's record hash to its root),
// parsing the text form itself: header, optional extra, index, path, empty line, note.
func tlogProof(vkey, proofPath, entryPath string) {
	raw, err := os.ReadFile(proofPath)
	if err != nil {
		fail(err)
	}
	entry, err := os.ReadFile(entryPath)
	if err != nil {
		fail(err)
	}
	head, checkpoint, ok := strings.Cut(string(raw), "\n\n")
	if !ok {
		fail(fmt.Errorf("no empty line"))
	}
	lines := strings.Split(head, "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" {
		fail(fmt.Errorf("header %q", lines[0]))
	}
	lines = lines[1:]
	if strings.HasPrefix(lines[0], "extra ") {
		lines = lines[1:]
	}
	index, err := strconv.ParseInt(strings.TrimPrefix(lines[0], "index "), 10, 64)
	if err != nil {
		fail(err)
	}
	var path tlog.RecordProof
	for _, l := range lines[1:] {
		b, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(b) != tlog.HashSize {
			fail(fmt.Errorf("path line %q", l))
		}
		var h tlog.Hash
		copy(h[:], b)
		path = append(path, h)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		fail(err)
	}
	n, err := note.Open([]byte(checkpoint), note.VerifierList(v))
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlogcheck: checkpoint:", err)
		os.Exit(1)
	}
	body := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(body[1], 10, 64)
	if err != nil {
		fail(err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(body[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail(fmt.Errorf("root %q", body[2]))
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	if err := tlog.CheckRecord(path, size, root, index, tlog.RecordHash(entry)); err != nil {
		fmt.Fprintln(os.Stderr, "tlogcheck: inclusion:", err)
		os.Exit(1)
	}
	fmt.Printf("entry %d of %d verified\n", index, size)
}
