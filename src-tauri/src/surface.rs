//! Checks that the app's command surface is written down the same in all five places that
//! name it: the `#[tauri::command]` functions (as bindings.ts's `Commands`), the handler list
//! (lib.rs), the app manifest (build.rs), the window's capability (tauri.conf.json) and the
//! page's calls (ui/src/lib/api.ts). A command registered but not
//! allowed fails at run time; one allowed but not registered widens the capability for
//! nothing; so any difference fails here. Also holds the hardening settings in place.

use std::collections::BTreeSet;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The words inside `open ... close` of `text`, after `anchor`.
fn section<'a>(text: &'a str, anchor: &str, close: &str) -> &'a str {
    let start = text
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor} not found"))
        + anchor.len();
    let len = text[start..].find(close).expect("section closes");
    &text[start..start + len]
}

fn handlers() -> BTreeSet<String> {
    let lib = read("src-tauri/src/lib.rs");
    section(&lib, "generate_handler![", "]")
        .split(',')
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| s.rsplit("::").next().unwrap().to_owned())
        .collect()
}

fn manifest() -> BTreeSet<String> {
    let build = read("src-tauri/build.rs");
    section(&build, "&[", "]")
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn config() -> serde_json::Value {
    serde_json::from_str(&read("tauri.conf.json")).expect("tauri.conf.json is JSON")
}

fn capability() -> BTreeSet<String> {
    let caps = config()["app"]["security"]["capabilities"].clone();
    let caps = caps.as_array().expect("capabilities inline");
    assert_eq!(caps.len(), 1, "one capability, for the main window");
    assert_eq!(caps[0]["windows"], serde_json::json!(["main"]));
    caps[0]["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| {
            let p = p.as_str().expect("permission names are strings");
            let name = p
                .strip_prefix("allow-")
                .unwrap_or_else(|| panic!("{p}: only the app's own allow-* permissions"));
            name.replace('-', "_")
        })
        .collect()
}

fn page_calls() -> BTreeSet<String> {
    let api = read("ui/src/lib/api.ts");
    api.split("call(\"")
        .skip(1)
        .filter_map(|rest| Some(rest[..rest.find('"')?].to_owned()))
        .collect()
}

/// The commands `bindings.rs` found as `#[tauri::command]` functions.
fn generated() -> BTreeSet<String> {
    let ts = read("ui/src/lib/bindings.ts");
    let start = ts
        .find("export interface Commands {")
        .expect("bindings.ts declares Commands");
    ts[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with('}'))
        .filter_map(|l| Some(l.trim().split_once(": { args")?.0.to_owned()))
        .collect()
}

#[test]
fn every_command_is_registered_declared_allowed_and_called_alike() {
    let handlers = handlers();
    assert!(handlers.len() > 20, "{handlers:?}");
    assert_eq!(
        manifest(),
        handlers,
        "build.rs and lib.rs list different commands"
    );
    assert_eq!(capability(), handlers, "the capability and lib.rs differ");
    assert_eq!(page_calls(), handlers, "api.ts calls and lib.rs differ");
    assert_eq!(
        generated(),
        handlers,
        "the #[tauri::command] functions and lib.rs differ"
    );
}

#[test]
fn the_window_loads_nothing_remote_and_has_no_devtools_in_release() {
    let conf = config();
    let csp = &conf["app"]["security"]["csp"];
    let text = csp.to_string();
    assert!(
        !text.contains("unsafe-"),
        "no unsafe-inline or unsafe-eval: {text}"
    );
    for (directive, value) in csp.as_object().expect("csp is an object") {
        let value = value.as_str().unwrap_or_default();
        for source in value.split_whitespace() {
            let allowed = ["'self'", "'none'", "data:", "ipc:", "http://ipc.localhost"];
            assert!(
                allowed.contains(&source),
                "{directive}: {source} is not local"
            );
        }
    }
    assert_eq!(conf["app"]["withGlobalTauri"], false);
    assert!(conf["build"].get("devUrl").is_none(), "no dev server URL");
    // Tauri opens devtools in release builds only with its `devtools` feature.
    let cargo = read("Cargo.toml");
    let tauri = cargo
        .lines()
        .find(|l| l.starts_with("tauri = "))
        .expect("the tauri dependency");
    assert!(!tauri.contains("devtools"), "{tauri}");
}
