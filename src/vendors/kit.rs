//! What every vendor module does the same way, written once: error tables, JSON bodies, success
//! envelopes, world-event vocabularies, fixture-section checks, and turning a recording's segments into
//! files. A vendor folder keeps only what differs (its codes, its shapes, its words).

use crate::checks::FixtureError;
use crate::files::{Media, NewFile, StoredFile};
use crate::http::{Exchange, Reply};
use crate::recording::{Recording, Segment};
use crate::world::World;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// A vendor's documented error codes with the document's descriptions.
#[derive(Debug, Clone, Copy)]
pub struct CodeTable {
    codes: &'static [(i64, &'static str)],
    unknown: &'static str,
}

impl CodeTable {
    /// The table of `codes`; a code not in it is described as `unknown`.
    pub const fn new(codes: &'static [(i64, &'static str)], unknown: &'static str) -> CodeTable {
        CodeTable { codes, unknown }
    }

    /// The document's description of `code`.
    pub fn describe(&self, code: i64) -> &'static str {
        self.codes.iter().find(|(c, _)| *c == code).map_or(self.unknown, |(_, d)| d)
    }

    /// The description of `code`, then `: detail` when there is one (see [`worded`]).
    pub fn message(&self, code: i64, detail: &str) -> String {
        worded(self.describe(code), detail)
    }

    /// Every documented code and its description.
    pub fn entries(&self) -> &'static [(i64, &'static str)] {
        self.codes
    }
}

/// A refusal as most vendors word it: the code's `description`, then `: detail` when there is one.
pub fn worded(description: &str, detail: &str) -> String {
    if detail.is_empty() {
        description.to_string()
    } else {
        format!("{description}: {detail}")
    }
}

/// Why a request body is not the JSON object a vendor expects; each vendor maps these to its own codes.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyProblem {
    /// nothing but white space
    Empty,
    /// bytes that are not UTF-8 text
    NotText,
    /// not JSON, even leniently read (comments and trailing commas are forgiven)
    NotJson(String),
    /// JSON, but not an object
    NotObject,
    /// an object, but a field is missing or has a wrong type
    Field {
        /// the field's path (`members[2].user_id`)
        path: String,
        /// what is wrong with it
        message: String,
    },
}

impl fmt::Display for BodyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyProblem::Empty => f.write_str("the body is empty; a JSON object is expected"),
            BodyProblem::NotText => f.write_str("the body is not UTF-8 text"),
            BodyProblem::NotJson(e) => write!(f, "the body is not valid JSON: {e}"),
            BodyProblem::NotObject => f.write_str("the body must be a JSON object"),
            BodyProblem::Field { path, message } => write!(f, "field `{path}`: {message}"),
        }
    }
}

impl BodyProblem {
    /// A problem with the body as a whole (rather than with one of its fields).
    pub fn is_syntax(&self) -> bool {
        !matches!(self, BodyProblem::Field { .. })
    }
}

/// The body as a JSON object read into `T`, or what is wrong with it.
pub fn json_body<T: DeserializeOwned>(ex: &Exchange) -> Result<T, BodyProblem> {
    let body: &[u8] = &ex.body;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyProblem::Empty);
    }
    // The usual body, a well-formed object of the right types, goes straight into `T`. Anything else
    // (syntax the lenient parser forgives, a wrong type, a duplicate key, not an object) takes the path
    // below, which names what is wrong.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let mut de = serde_json::Deserializer::from_slice(body);
        if let Ok(v) = T::deserialize(&mut de) {
            if de.end().is_ok() {
                return Ok(v);
            }
        }
    }
    if std::str::from_utf8(body).is_err() {
        return Err(BodyProblem::NotText);
    }
    let value = crate::wire::lenient_json(body).map_err(|e| BodyProblem::NotJson(e.to_string()))?;
    if !value.is_object() {
        return Err(BodyProblem::NotObject);
    }
    serde_path_to_error::deserialize(&value)
        .map_err(|e| BodyProblem::Field { path: e.path().to_string(), message: e.into_inner().to_string() })
}

/// A success answer: the vendor's `head` fields (`code: 0`, `msg: "OK"`, ...) then the fields of `fields`.
pub fn success(head: &[(&str, Value)], fields: Value) -> Reply {
    let mut m = Map::new();
    for (k, v) in head {
        m.insert((*k).to_string(), v.clone());
    }
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    Reply::json(&Value::Object(m))
}

/// The error of an unknown world event name of `vendor`, listing the `known` ones.
pub fn unknown_event(vendor: crate::VendorKind, name: &str, known: &[&str]) -> String {
    format!("unknown event {vendor}.{name} (known: {})", known.join(", "))
}

/// Report every item whose `key` repeats an earlier one's, at `<item path>.<field>`.
pub fn report_duplicates<T, K: Ord + fmt::Display>(
    items: &[(String, T)],
    field: &str,
    key: impl Fn(&T) -> K,
    errors: &mut Vec<FixtureError>,
) {
    let mut seen: BTreeMap<K, &str> = BTreeMap::new();
    for (p, item) in items {
        let k = key(item);
        let shown = k.to_string();
        if let Some(first) = seen.insert(k, p) {
            errors.push(FixtureError::new(
                format!("{p}.{field}"),
                format!("duplicate {field} {shown} (also at {first})"),
            ));
        }
    }
}

/// Report every item whose tenant `id` already exists (`exists`), at `<item path>.<field>`: a fixture may
/// add tenants, never replace one.
pub fn report_existing<T>(
    items: &[(String, T)],
    field: &str,
    id: impl Fn(&T) -> String,
    exists: impl Fn(&str) -> bool,
    what: &str,
    errors: &mut Vec<FixtureError>,
) {
    for (p, item) in items {
        let id = id(item);
        if exists(&id) {
            errors.push(FixtureError::new(format!("{p}.{field}"), format!("{what} {id} already exists")));
        }
    }
}

/// Where a fixture section's load stops before changing anything: refused with the `errors` found, or done
/// when it was a `dry_run` (a check of conflicts with the current world). `None`: go on and load.
pub fn stop_before_loading(
    errors: Vec<FixtureError>,
    dry_run: bool,
) -> Option<Result<Vec<String>, Vec<FixtureError>>> {
    if !errors.is_empty() {
        Some(Err(errors))
    } else if dry_run {
        Some(Ok(Vec::new()))
    } else {
        None
    }
}

/// Check a dump's tenants' configurations (`configs`: tenant id and fixture item) with the vendor's own
/// fixture checks (`check_section`, given a section that lists them under `key`): one check of ranges and
/// shapes for fixtures and state dumps, every vendor. An error names the tenant:
/// `apps.1400000001.config.segment_s: must be between 60 and 2592000 seconds`.
pub fn check_dumped_configs(
    key: &str,
    configs: &[(String, Value)],
    check_section: impl FnOnce(&Value, &mut Vec<FixtureError>),
) -> Result<(), String> {
    let mut section = Map::new();
    section.insert(key.to_string(), Value::Array(configs.iter().map(|(_, c)| c.clone()).collect()));
    let mut errors = Vec::new();
    check_section(&Value::Object(section), &mut errors);
    if errors.is_empty() {
        return Ok(());
    }
    // `apps[3].segment_s` → `apps.<id of the 4th tenant>.config.segment_s`
    let named = |path: &str| -> String {
        let at = path
            .strip_prefix(key)
            .and_then(|p| p.strip_prefix('['))
            .and_then(|p| p.split_once(']'))
            .and_then(|(i, rest)| Some((configs.get(i.parse::<usize>().ok()?)?, rest)));
        match at {
            Some(((id, _), rest)) => format!("{key}.{id}.config{rest}"),
            None => path.to_string(),
        }
    };
    Err(errors.iter().map(|e| format!("{}: {}", named(&e.path), e.message)).collect::<Vec<_>>().join("; "))
}

/// Run `chunk(n)` for `total` items, `n` at most [`SEED_CHUNK`](crate::vendors::SEED_CHUNK) at a time (each
/// call takes the tenant's lock for its `n`): how bulk seeding makes millions of entities without
/// holding a tenant for seconds. The first error stops it.
pub fn in_chunks(total: u64, mut chunk: impl FnMut(u64) -> Result<(), String>) -> Result<(), String> {
    let mut left = total;
    while left > 0 {
        let n = left.min(crate::vendors::SEED_CHUNK);
        chunk(n)?;
        left -= n;
    }
    Ok(())
}

/// Report a callback URL that is not `http(s)://`, at `path`.
pub fn check_callback_url(url: Option<&str>, path: &str, errors: &mut Vec<FixtureError>) {
    if let Some(u) = url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            errors.push(FixtureError::new(path, "must start with http:// or https://"));
        }
    }
}

/// Store one file per segment of a finished recording, owned by `owner`, named by `name_of`, noting each
/// file's key on its segment. Each file is media of the recording's shape lasting its segment, made with the
/// seed and size the segment was cut with (so the size reported since the stop is the file's). Lazy: each
/// file is made as the iterator reaches its segment, so ids the caller draws per file (video ids, file ids)
/// interleave with the files' own, as they always have.
pub fn store_segments<'a>(
    world: &'a World,
    owner: &'a str,
    rec: &'a mut Recording,
    at_ms: i64,
    name_of: impl Fn(&Segment) -> String + 'a,
) -> impl Iterator<Item = (&'a Segment, StoredFile)> + 'a {
    let shape = rec.shape();
    rec.segments.iter_mut().map(move |seg| {
        let media = Media { shape, duration_ms: seg.duration_ms() };
        let name = name_of(seg);
        let new = NewFile {
            owner,
            name: &name,
            media: Some(media),
            format: shape.format(),
            target_size: seg.size,
            seed: Some(seg.seed),
        };
        let f = world.files.add(&world.ids, new, at_ms);
        seg.size = f.size;
        seg.file_key = Some(f.key.clone());
        (&*seg, f)
    })
}

/// The fixture's app of `vendor` with `sdkappid` (`wanted`, else the first app): its sdkappid and its
/// object (null when the fixture has no such app but one was asked for by number). For client sides that
/// sign with an app's keys.
pub fn fixture_app(
    fixture: &Value,
    vendor: crate::VendorKind,
    wanted: Option<u64>,
) -> Result<(u64, Value), String> {
    let apps = fixture.get(vendor.as_str()).and_then(|s| s.get("apps")).and_then(Value::as_array);
    let found = apps.and_then(|a| match wanted {
        Some(id) => a.iter().find(|x| x["sdkappid"].as_u64() == Some(id)),
        None => a.first(),
    });
    match (wanted, found) {
        (_, Some(app)) => Ok((app["sdkappid"].as_u64().unwrap_or_default(), app.clone())),
        (Some(id), None) => Ok((id, Value::Null)),
        (None, None) => Err(format!("no {vendor} app in the fixture: give auth.sdkappid and its key")),
    }
}

/// What a step may override of a 000 or 002 login (the URL's `sdkappid`, `identifier`, `usersig`).
#[derive(Debug, Clone, Copy, Default)]
pub struct UsersigLogin<'a> {
    /// the app (default: the query's `sdkappid`, else the fixture's first)
    pub sdkappid: Option<u64>,
    /// the user the usersig is made for (default: the query's `identifier`, else `default_identifier`)
    pub identifier: Option<&'a str>,
    /// the app key (default: the fixture's)
    pub key: Option<&'a str>,
    /// a usersig to send as is
    pub usersig: Option<&'a str>,
}

/// Add a 000/002 login to `req`'s query (`sdkappid`, `identifier`, `usersig` where missing): a TLS-sig of the
/// identifier signed with the app's key at the server's virtual time, valid a day, unless `login` gives one.
/// `default_identifier` picks the user from the fixture's app when neither the step nor the query names one.
pub async fn add_usersig_login(
    session: &mut dyn crate::vendors::ClientSession,
    req: &mut crate::vendors::OutgoingRequest,
    vendor: crate::VendorKind,
    login: UsersigLogin<'_>,
    default_identifier: impl FnOnce(&Value) -> Result<String, String>,
) -> Result<(), String> {
    let wanted = login.sdkappid.or_else(|| req.query_value("sdkappid").and_then(|q| q.parse().ok()));
    let (sdkappid, app) = fixture_app(session.fixture(), vendor, wanted)?;
    let identifier = match login.identifier.map(str::to_string).or_else(|| req.query_value("identifier")) {
        Some(i) => i,
        None => default_identifier(&app)?,
    };
    let usersig = match login.usersig {
        Some(s) => s.to_string(),
        None => {
            let key = login.key.or_else(|| app["key"].as_str()).ok_or_else(|| {
                format!("{vendor} app {sdkappid} has no `key` in the fixture: give auth.key")
            })?;
            let now = session.now().await?;
            crate::tlssig::sign(sdkappid, key, &identifier, now, 86_400)
        }
    };
    req.add_query([("sdkappid", sdkappid.to_string()), ("identifier", identifier), ("usersig", usersig)]);
    Ok(())
}

/// The key `field` of the fixture's `vendor` app `sdkappid`, for checking a callback it signed.
pub fn fixture_app_key(
    fixture: &Value,
    vendor: crate::VendorKind,
    field: &str,
    sdkappid: Option<u64>,
) -> Result<(u64, String), String> {
    let id = sdkappid.ok_or_else(|| format!("no sdkappid to tell which {vendor} app signed it"))?;
    fixture
        .get(vendor.as_str())
        .and_then(|s| s["apps"].as_array())
        .and_then(|a| a.iter().find(|x| x["sdkappid"].as_u64() == Some(id)))
        .and_then(|x| x[field].as_str())
        .map(|k| (id, k.to_string()))
        .ok_or_else(|| format!("{vendor} app {id} has no `{field}` in the fixture"))
}

/// How strictly 000 and 002 check a `usersig`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsersigCheck {
    /// a real TLS-sig v2 for the identifier, made with the app key, not expired
    #[default]
    Strict,
    /// any non-empty string
    Any,
}

impl UsersigCheck {
    /// Check `usersig` of `identifier` in app `sdkappid` signed with `key`, its times judged by `now`, as
    /// strictly as this says.
    pub fn check(
        self,
        usersig: &str,
        sdkappid: u64,
        key: &str,
        identifier: &str,
        now: &crate::clock::AuthNow,
    ) -> Result<(), crate::tlssig::SigError> {
        match self {
            UsersigCheck::Strict => {
                crate::tlssig::verify(usersig, sdkappid, key, identifier, now).map(|_| ())
            }
            UsersigCheck::Any => Ok(()),
        }
    }
}

/// A page of the dashboard's entities across a vendor's tenants (only `q.tenant` when it names one), in
/// tenant order: `one(tenant id, state, skip, limit)` answers one tenant with how many of its entities
/// match and `limit` of them from position `skip`; a tenant after the page is full is asked for none
/// (only its count).
pub fn page_across<S: Clone + serde::Serialize + DeserializeOwned>(
    tenants: &crate::tenants::Tenants<S>,
    q: &crate::vendors::EntityQuery<'_>,
    one: impl Fn(&str, &S, usize, usize) -> (usize, Vec<crate::vendors::EntityRow>),
) -> crate::vendors::EntityPage {
    let mut page = crate::vendors::EntityPage::default();
    let mut skip = q.skip;
    for (id, lock) in tenants.all() {
        if q.tenant.is_some_and(|t| t != id) {
            continue;
        }
        let want = q.limit.saturating_sub(page.rows.len());
        let (total, rows) = one(&id, &lock.read(), skip, want);
        page.total += total;
        skip = skip.saturating_sub(total);
        page.rows.extend(rows);
    }
    page
}

/// [`page_across`] for a vendor whose entities are few enough to list whole: `rows(tenant id, state)`
/// lists a tenant's entities of the query's kind, in the order shown.
pub fn page_listing<S: Clone + serde::Serialize + DeserializeOwned>(
    tenants: &crate::tenants::Tenants<S>,
    q: &crate::vendors::EntityQuery<'_>,
    rows: impl Fn(&str, &S) -> Vec<crate::vendors::EntityRow>,
) -> crate::vendors::EntityPage {
    page_across(tenants, q, |id, s, skip, limit| q.page_of(rows(id, s), skip, limit))
}

/// `rows` newest first: the page at `skip` of `total` entities kept oldest first, given `at(from, n)`,
/// which returns `n` of them from position `from` in their own order.
pub fn newest_first<T>(
    total: usize,
    skip: usize,
    limit: usize,
    at: impl FnOnce(usize, usize) -> Vec<T>,
) -> Vec<T> {
    let end = total.saturating_sub(skip);
    let start = end.saturating_sub(limit);
    let mut rows = at(start, end - start);
    rows.reverse();
    rows
}
