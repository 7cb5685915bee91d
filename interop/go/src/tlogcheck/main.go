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
package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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
