//! Requests to routes: a pure function of the method, path and query, so it can be fuzzed
//! and tested without a socket.

use crate::encoding::canonical_u64;
use crate::event::TaskId;
use crate::merkle::{Tile, TilePathError};

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `POST /add`: one envelope or a CBOR sequence of them.
    Add,
    /// `GET /checkpoint`: the latest signed checkpoint.
    Checkpoint,
    /// `GET /tile/...`: a hash tile or an entry bundle.
    Tile(Tile),
    /// `GET /entry/<index>`: one entry's exact bytes.
    Entry(u64),
    /// `GET /bundle/<task>`: the evidence bundle of a task at the latest checkpoint.
    Bundle(TaskId),
    /// `GET /proof/inclusion?index=I[&size=S]`.
    Inclusion {
        /// The entry.
        index: u64,
        /// The tree size (default: the latest checkpoint's).
        size: Option<u64>,
    },
    /// `GET /proof/consistency?old=O[&new=N]`.
    Consistency {
        /// The older size.
        old: u64,
        /// The newer size (default: the latest checkpoint's).
        new: Option<u64>,
    },
    /// `GET /metrics`: Prometheus text.
    Metrics,
}

/// Why a request names no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RouteError {
    /// No such path.
    NotFound,
    /// The path exists for another method.
    Method {
        /// The method it takes.
        allow: &'static str,
    },
    /// A malformed tile path.
    Tile(TilePathError),
    /// A malformed or missing query parameter, or an unknown one.
    Query(&'static str),
    /// The task id is not a task id.
    Task,
    /// The index is not a canonical decimal.
    Index,
}

impl Route {
    /// The route of a request. Parameters are canonical decimals (no sign, no leading zero),
    /// each at most once, and nothing unknown is ignored: a typo is an error, not a default.
    pub(crate) fn parse(method: &str, path: &str, query: Option<&str>) -> Result<Self, RouteError> {
        let path = path.strip_prefix('/').ok_or(RouteError::NotFound)?;
        let route = match path {
            "add" => Self::Add,
            "checkpoint" => Self::Checkpoint,
            "metrics" => Self::Metrics,
            "proof/inclusion" => {
                let q = Query::parse(query, &["index", "size"])?;
                Self::Inclusion {
                    index: q
                        .get("index")?
                        .ok_or(RouteError::Query("index is required"))?,
                    size: q.get("size")?,
                }
            }
            "proof/consistency" => {
                let q = Query::parse(query, &["old", "new"])?;
                Self::Consistency {
                    old: q.get("old")?.ok_or(RouteError::Query("old is required"))?,
                    new: q.get("new")?,
                }
            }
            _ => Self::with_argument(path)?,
        };
        let allow = if route == Self::Add { "POST" } else { "GET" };
        if method != allow {
            return Err(RouteError::Method { allow });
        }
        if !matches!(route, Self::Inclusion { .. } | Self::Consistency { .. }) && query.is_some() {
            return Err(RouteError::Query("this path takes no query"));
        }
        Ok(route)
    }

    fn with_argument(path: &str) -> Result<Self, RouteError> {
        if path.starts_with("tile/") {
            return Tile::parse(path).map(Self::Tile).map_err(RouteError::Tile);
        }
        if let Some(index) = path.strip_prefix("entry/") {
            return canonical_u64(index)
                .map(Self::Entry)
                .ok_or(RouteError::Index);
        }
        if let Some(task) = path.strip_prefix("bundle/") {
            return task.parse().map(Self::Bundle).map_err(|_| RouteError::Task);
        }
        Err(RouteError::NotFound)
    }

    /// A short name for logs and metrics (bounded cardinality: never the path itself).
    pub(crate) const fn name(&self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Checkpoint => "checkpoint",
            Self::Tile(_) => "tile",
            Self::Entry(_) => "entry",
            Self::Bundle(_) => "bundle",
            Self::Inclusion { .. } => "inclusion",
            Self::Consistency { .. } => "consistency",
            Self::Metrics => "metrics",
        }
    }
}

/// A query string's parameters, each known and given once.
struct Query<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Query<'a> {
    fn parse(query: Option<&'a str>, known: &[&str]) -> Result<Self, RouteError> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or(RouteError::Query("a parameter without a value"))?;
            if !known.contains(&key) {
                return Err(RouteError::Query("an unknown parameter"));
            }
            if pairs.iter().any(|(k, _)| *k == key) {
                return Err(RouteError::Query("a parameter given twice"));
            }
            pairs.push((key, value));
        }
        Ok(Self(pairs))
    }

    fn get(&self, key: &str) -> Result<Option<u64>, RouteError> {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| canonical_u64(v).ok_or(RouteError::Query("not a canonical decimal")))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::TileKind;

    #[test]
    fn each_route_parses_and_nothing_else_does() {
        let ok = [
            ("POST", "/add", None, Route::Add),
            ("GET", "/checkpoint", None, Route::Checkpoint),
            ("GET", "/metrics", None, Route::Metrics),
            ("GET", "/entry/0", None, Route::Entry(0)),
            (
                "GET",
                "/proof/inclusion",
                Some("size=9&index=3"),
                Route::Inclusion {
                    index: 3,
                    size: Some(9),
                },
            ),
            (
                "GET",
                "/proof/consistency",
                Some("old=1"),
                Route::Consistency { old: 1, new: None },
            ),
            (
                "GET",
                "/tile/entries/x001/000.p/3",
                None,
                Route::Tile(Tile {
                    kind: TileKind::Entries,
                    index: 1000,
                    width: 3,
                }),
            ),
        ];
        for (method, path, query, want) in ok {
            assert_eq!(Route::parse(method, path, query), Ok(want), "{path}");
        }
        let err = [
            ("GET", "/add", None, RouteError::Method { allow: "POST" }),
            (
                "POST",
                "/checkpoint",
                None,
                RouteError::Method { allow: "GET" },
            ),
            ("GET", "add", None, RouteError::NotFound),
            ("GET", "/", None, RouteError::NotFound),
            ("GET", "/checkpoint/", None, RouteError::NotFound),
            ("GET", "/../ledger/log.key", None, RouteError::NotFound),
            (
                "GET",
                "/tile/0/../../log.key",
                None,
                RouteError::Tile(TilePathError::Index),
            ),
            ("GET", "/entry/01", None, RouteError::Index),
            ("GET", "/entry/-1", None, RouteError::Index),
            (
                "GET",
                "/entry/18446744073709551616",
                None,
                RouteError::Index,
            ),
            ("GET", "/bundle/not-a-task", None, RouteError::Task),
            (
                "GET",
                "/checkpoint",
                Some("x=1"),
                RouteError::Query("this path takes no query"),
            ),
            (
                "GET",
                "/proof/inclusion",
                None,
                RouteError::Query("index is required"),
            ),
            (
                "GET",
                "/proof/inclusion",
                Some("index"),
                RouteError::Query("a parameter without a value"),
            ),
            (
                "GET",
                "/proof/inclusion",
                Some("index=1&index=2"),
                RouteError::Query("a parameter given twice"),
            ),
            (
                "GET",
                "/proof/inclusion",
                Some("index=1&sise=2"),
                RouteError::Query("an unknown parameter"),
            ),
            (
                "GET",
                "/proof/consistency",
                Some("old=+1"),
                RouteError::Query("not a canonical decimal"),
            ),
        ];
        for (method, path, query, want) in err {
            assert_eq!(Route::parse(method, path, query), Err(want), "{path}");
        }
    }
}
