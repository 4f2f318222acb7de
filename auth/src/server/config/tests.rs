use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn parse_with_env(text: &str, env: &[(&str, &str)]) -> Result<Option<AuthConfig>, ConfigError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    from_sources(Path::new("secrets.toml"), Some(text), move |name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
}

fn parse(text: &str) -> Result<Option<AuthConfig>, ConfigError> {
    parse_with_env(text, &[])
}

fn error(text: &str) -> String {
    match parse(text) {
        Err(error) => error.to_string(),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

fn single_provider() -> String {
    format!(
        r#"
[auth]
redirect_uri = "http://localhost:3000/oauth2callback"
cookie_secret = "{SECRET}"
client_id = "app"
client_secret = "shh"
server_metadata_url = "https://accounts.example.com/.well-known/openid-configuration"
"#
    )
}

#[test]
fn reads_streamlits_example() {
    let config = parse(&single_provider())
        .expect("valid")
        .expect("configured");
    assert_eq!(
        config.redirect_uri.as_str(),
        "http://localhost:3000/oauth2callback"
    );
    assert!(!config.is_https());
    let [provider] = config.providers.as_slice() else {
        panic!("one provider expected")
    };
    assert_eq!(provider.name, None);
    assert_eq!(provider.client_id, "app");
    assert_eq!(
        provider.client_secret.as_ref().map(Secret::expose),
        Some("shh")
    );
    assert_eq!(provider.issuer, "https://accounts.example.com");
    assert_eq!(provider.scopes(), ["openid", "email", "profile"]);
}

#[test]
fn no_auth_table_is_not_configured() {
    assert!(parse("[other]\nkey = 1\n").expect("valid").is_none());
    assert!(
        from_sources(Path::new("secrets.toml"), None, |_| None)
            .expect("valid")
            .is_none()
    );
}

#[test]
fn secrets_never_print() {
    let config = parse(&single_provider())
        .expect("valid")
        .expect("configured");
    let debug = format!("{config:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains("shh"), "{debug}");
}

#[test]
fn each_missing_key_is_named() {
    for key in [
        "redirect_uri",
        "cookie_secret",
        "client_id",
        "server_metadata_url",
    ] {
        let text: String = single_provider()
            .lines()
            .filter(|line| !line.starts_with(key))
            .collect::<Vec<_>>()
            .join("\n");
        let message = error(&text);
        assert!(
            message.starts_with(&format!("secrets.toml: auth.{key}: is missing")),
            "{message}"
        );
        assert!(
            message.contains(&format!("AUTH_{}", key.to_uppercase())),
            "{message}"
        );
    }
}

#[test]
fn malformed_toml_names_the_line_but_not_its_text() {
    let text = format!("[auth]\ncookie_secret = \"{SECRET}\"\nclient_secret = \"hunter2\n");
    let message = error(&text);
    assert!(
        message.starts_with("secrets.toml: (file): not valid TOML (line 3)"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn auth_must_be_a_table() {
    assert_eq!(
        error("auth = \"yes\""),
        "secrets.toml: auth: must be a table: write [auth] on a line of its own"
    );
}

#[test]
fn short_cookie_secret_is_refused() {
    let text = single_provider().replace(SECRET, "short");
    assert_eq!(
        error(&text),
        "secrets.toml: auth.cookie_secret: is 5 bytes; it must be at least 32 \
         (make one with `openssl rand -base64 32`)"
    );
}

#[test]
fn bad_urls_are_explained() {
    let text = single_provider().replace("http://localhost:3000/oauth2callback", "localhost:3000");
    assert!(
        error(&text).starts_with("secrets.toml: auth.redirect_uri: must be an http or https URL")
    );
    let text = single_provider().replace("http://localhost:3000/oauth2callback", "not a url");
    assert!(error(&text).starts_with("secrets.toml: auth.redirect_uri: is not an absolute URL"));
    let text = single_provider().replace("/.well-known/openid-configuration", "/metadata");
    assert_eq!(
        error(&text),
        "secrets.toml: auth.server_metadata_url: must end with \
         /.well-known/openid-configuration (the provider's discovery document)"
    );
    let text = single_provider().replace(
        "https://accounts.example.com",
        "http://accounts.example.com",
    );
    assert_eq!(
        error(&text),
        "secrets.toml: auth.server_metadata_url: must be an https URL (http is allowed only on localhost)"
    );
}

#[test]
fn http_discovery_is_allowed_on_loopback() {
    let text = single_provider().replace("https://accounts.example.com", "http://127.0.0.1:9090");
    let config = parse(&text).expect("valid").expect("configured");
    assert_eq!(config.providers[0].issuer.as_str(), "http://127.0.0.1:9090");
}

#[test]
fn wrong_types_and_unknown_keys_are_named() {
    let text = single_provider().replace("client_id = \"app\"", "client_id = 42");
    assert_eq!(
        error(&text),
        "secrets.toml: auth.client_id: must be a string (in quotes)"
    );
    let text = format!("{}client_secert = \"x\"\n", single_provider());
    assert!(error(&text).starts_with("secrets.toml: auth.client_secert: unknown key"));
}

#[test]
fn client_kwargs_are_passed_on_but_cannot_change_the_flow() {
    let text = format!(
        "{}[auth.client_kwargs]\nscope = \"email\"\nprompt = \"login\"\n",
        single_provider()
    );
    let config = parse(&text).expect("valid").expect("configured");
    let provider = &config.providers[0];
    assert_eq!(provider.scopes(), ["openid", "email"]);
    assert_eq!(
        provider.auth_params.get("prompt").map(String::as_str),
        Some("login")
    );

    let text = format!(
        "{}[auth.client_kwargs]\nredirect_uri = \"https://evil.example\"\n",
        single_provider()
    );
    assert_eq!(
        error(&text),
        "secrets.toml: auth.client_kwargs.redirect_uri: is set by the sign-in flow itself and cannot be changed"
    );
    let text = format!("{}[auth.client_kwargs]\nmax_age = 5\n", single_provider());
    assert_eq!(
        error(&text),
        "secrets.toml: auth.client_kwargs.max_age: must be a string (in quotes)"
    );
}

#[test]
fn named_providers_inherit_shared_keys() {
    let text = format!(
        r#"
[auth]
redirect_uri = "https://app.example/oauth2callback"
cookie_secret = "{SECRET}"
client_secret = "shared"
[auth.client_kwargs]
prompt = "login"

[auth.google]
client_id = "g"
server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"

[auth.microsoft]
client_id = "m"
client_secret = "own"
server_metadata_url = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
[auth.microsoft.client_kwargs]
prompt = "select_account"
"#
    );
    let config = parse(&text).expect("valid").expect("configured");
    assert!(config.is_https());
    let names: Vec<_> = config.providers.iter().map(|p| p.name.as_deref()).collect();
    assert_eq!(names, [Some("google"), Some("microsoft")]);
    let google = &config.providers[0];
    assert_eq!(
        google.client_secret.as_ref().map(Secret::expose),
        Some("shared")
    );
    assert_eq!(
        google.auth_params.get("prompt").map(String::as_str),
        Some("login")
    );
    let microsoft = &config.providers[1];
    assert_eq!(
        microsoft.client_secret.as_ref().map(Secret::expose),
        Some("own")
    );
    assert_eq!(
        microsoft.auth_params.get("prompt").map(String::as_str),
        Some("select_account")
    );
}

#[test]
fn named_provider_errors_name_the_table() {
    let text = format!(
        "[auth]\nredirect_uri = \"http://localhost:3000/oauth2callback\"\ncookie_secret = \"{SECRET}\"\n\
         [auth.google]\nclient_id = \"g\"\nclient_secret = \"s\"\n"
    );
    assert_eq!(
        error(&text),
        "secrets.toml: auth.google.server_metadata_url: is missing; add \
         `server_metadata_url = \"…\"` under [auth.google] (or set AUTH_GOOGLE_SERVER_METADATA_URL)"
    );
    let text = text.replace("[auth.google]", "[auth.my_idp]");
    assert_eq!(
        error(&text),
        "secrets.toml: auth.my_idp: provider names may hold only letters, digits and '-'"
    );
}

#[test]
fn environment_overrides_the_file() {
    let config = parse_with_env(
        &single_provider(),
        &[
            ("AUTH_CLIENT_ID", "from-env"),
            ("AUTH_REDIRECT_URI", "https://prod.example/oauth2callback"),
        ],
    )
    .expect("valid")
    .expect("configured");
    assert_eq!(config.providers[0].client_id, "from-env");
    assert!(config.is_https());
}

#[test]
fn environment_alone_is_a_configuration() {
    let config = from_sources(Path::new("secrets.toml"), None, |name| {
        Some(
            match name {
                "AUTH_REDIRECT_URI" => "http://localhost:3000/oauth2callback",
                "AUTH_COOKIE_SECRET" => SECRET,
                "AUTH_CLIENT_ID" => "app",
                "AUTH_CLIENT_SECRET" => "s",
                "AUTH_SERVER_METADATA_URL" => {
                    "https://idp.example/.well-known/openid-configuration"
                }
                _ => return None,
            }
            .to_owned(),
        )
    })
    .expect("valid")
    .expect("configured");
    assert_eq!(config.providers[0].client_id, "app");
}

#[test]
fn a_named_secrets_file_must_exist() {
    // `load` reads the process environment; a test process may set its own variable.
    // SAFETY: no other test reads or writes AUTH_SECRETS_FILE.
    unsafe { std::env::set_var(SECRETS_FILE_ENV, "/nonexistent/secrets.toml") };
    let result = load();
    unsafe { std::env::remove_var(SECRETS_FILE_ENV) };
    let message = result.expect_err("missing file").to_string();
    assert!(
        message.starts_with(
            "/nonexistent/secrets.toml: AUTH_SECRETS_FILE: cannot read the secrets file"
        ),
        "{message}"
    );
}

#[test]
fn previous_cookie_secrets_are_read_and_checked() {
    let old = "an older cookie secret of at least 32 bytes";
    let text = format!(
        "{}previous_cookie_secrets = [\"{old}\"]\n",
        single_provider()
    );
    let config = parse(&text).expect("valid").expect("configured");
    assert_eq!(config.previous_cookie_secrets, [Secret::new(old)]);

    let text = format!(
        "{}previous_cookie_secrets = [\"{old}\", \"short\"]\n",
        single_provider()
    );
    assert_eq!(
        error(&text),
        "secrets.toml: auth.previous_cookie_secrets[1]: is 5 bytes; it must be at least 32 \
         (make one with `openssl rand -base64 32`)"
    );
    let text = format!("{}previous_cookie_secrets = \"{old}\"\n", single_provider());
    assert!(error(&text).starts_with("secrets.toml: auth.previous_cookie_secrets: must be a list"));

    let env = format!("{old}, another retired secret of 32+ bytes");
    let config = parse_with_env(
        &single_provider(),
        &[("AUTH_PREVIOUS_COOKIE_SECRETS", &env)],
    )
    .expect("valid")
    .expect("configured");
    assert_eq!(config.previous_cookie_secrets.len(), 2);
}

#[test]
fn redirect_uri_needs_a_plain_callback_path() {
    for bad in [
        "http://localhost:3000",
        "http://localhost:3000/",
        "http://localhost:3000/:id",
        "http://localhost:3000/a//b",
        "http://localhost:3000/*rest",
    ] {
        let text = single_provider().replace("http://localhost:3000/oauth2callback", bad);
        assert!(
            error(&text).starts_with("secrets.toml: auth.redirect_uri: needs a path of its own"),
            "{bad}: {}",
            error(&text)
        );
    }
    let text = single_provider().replace("/oauth2callback", "/auth/callback");
    assert!(parse(&text).is_ok());
}

#[test]
fn flow_breaking_kwargs_are_refused() {
    for param in ["response_mode", "request", "request_uri"] {
        let text = format!(
            "{}[auth.client_kwargs]\n{param} = \"x\"\n",
            single_provider()
        );
        assert!(
            error(&text).contains("is set by the sign-in flow itself"),
            "{param}"
        );
    }
}

#[test]
fn empty_environment_variables_count_as_unset() {
    let config = parse_with_env(&single_provider(), &[("AUTH_CLIENT_ID", "")])
        .expect("valid")
        .expect("configured");
    assert_eq!(config.providers[0].client_id, "app");
}

#[test]
fn userinfo_is_auto_unless_a_provider_or_auth_says() {
    let text = format!(
        "{}userinfo = \"never\"\n[auth.google]\n[auth.okta]\nuserinfo = \"always\"\n[auth.plain]\n",
        single_provider()
    );
    let config = parse(&text).expect("valid").expect("configured");
    let mode = |name: Option<&str>| {
        config
            .providers
            .iter()
            .find(|provider| provider.name.as_deref() == name)
            .map(|provider| provider.userinfo)
    };
    assert_eq!(mode(None), Some(Userinfo::Never));
    assert_eq!(mode(Some("google")), Some(Userinfo::Never), "from [auth]");
    assert_eq!(mode(Some("okta")), Some(Userinfo::Always));
    let config = parse(&single_provider())
        .expect("valid")
        .expect("configured");
    assert_eq!(config.providers[0].userinfo, Userinfo::Auto);
}

#[test]
fn claims_refresh_interval_is_off_unless_set_inherited_and_keeps_the_tokens() {
    let config = parse(&single_provider())
        .expect("valid")
        .expect("configured");
    assert_eq!(config.providers[0].claims_refresh_interval, None);
    assert!(!config.providers[0].keeps_tokens());

    let text = format!(
        "{}claims_refresh_interval = \"15m\"\n[auth.google]\n[auth.okta]\nclaims_refresh_interval = 90\n",
        single_provider()
    );
    let config = parse(&text).expect("valid").expect("configured");
    let interval = |name: Option<&str>| {
        config
            .providers
            .iter()
            .find(|provider| provider.name.as_deref() == name)
            .and_then(|provider| provider.claims_refresh_interval)
    };
    let minutes = |n: u64| Some(std::time::Duration::from_secs(60 * n));
    assert_eq!(interval(None), minutes(15));
    assert_eq!(interval(Some("google")), minutes(15), "from [auth]");
    assert_eq!(
        interval(Some("okta")),
        Some(std::time::Duration::from_secs(90))
    );
    // It reads userinfo with the access token: the tokens are kept, so not in a cookie.
    assert!(
        config
            .providers
            .iter()
            .all(|provider| provider.keeps_tokens())
    );
    let message = error(&format!(
        "{}claims_refresh_interval = \"1h\"\nsession_store = \"cookie\"\n",
        single_provider()
    ));
    assert!(
        message.contains("auth.session_store") && message.contains("claims_refresh_interval"),
        "{message}"
    );

    for value in ["0", "\"500ms\"", "\"soon\"", "true", "-5"] {
        let message = error(&format!(
            "{}[auth.okta]\nclaims_refresh_interval = {value}\n",
            single_provider()
        ));
        assert!(
            message.starts_with(
                "secrets.toml: auth.okta.claims_refresh_interval: must be at least one second"
            ),
            "{value}: {message}"
        );
    }
}

#[test]
fn a_wrong_userinfo_names_the_key_and_the_choices() {
    for value in ["\"sometimes\"", "true", "\"Always\""] {
        let text = format!("{}[auth.okta]\nuserinfo = {value}\n", single_provider());
        let message = error(&text);
        assert!(
            message.starts_with("secrets.toml: auth.okta.userinfo: must be \"auto\""),
            "{message}"
        );
        assert!(message.contains("\"always\" or \"never\""), "{message}");
    }
    let message = error(&format!("{}userinfo = 1\n", single_provider()));
    assert!(
        message.starts_with("secrets.toml: auth.userinfo: must be"),
        "{message}"
    );
}

#[test]
fn login_params_default_to_the_harmless_four_and_never_name_what_the_flow_sets() {
    let text = format!(
        "{}[auth.entra]\nlogin_params = [\"prompt\", \"domain_hint\", \"acr_values\"]\n",
        single_provider()
    );
    let config = parse(&text).expect("valid").expect("configured");
    assert_eq!(
        config.providers[0].login_params,
        ["prompt", "login_hint", "max_age", "ui_locales"]
    );
    assert_eq!(
        config.providers[1].login_params,
        ["prompt", "domain_hint", "acr_values"]
    );
    for (value, expected) in [
        (
            "[\"redirect_uri\"]",
            "names \"redirect_uri\", which the sign-in flow sets itself",
        ),
        ("[\"state\", \"prompt\"]", "names \"state\""),
        ("\"prompt\"", "must be a list of parameter names"),
        ("[\"a b\"]", "must hold parameter names"),
        ("[1]", "must hold parameter names"),
    ] {
        let message = error(&format!("{}login_params = {value}\n", single_provider()));
        assert!(
            message.starts_with("secrets.toml: auth.login_params: ") && message.contains(expected),
            "{value}: {message}"
        );
    }
}

#[test]
fn a_claims_request_must_be_a_json_object() {
    let text = format!(
        "{}[auth.client_kwargs]\nclaims = '{{\"userinfo\": {{\"groups\": null}}}}'\n",
        single_provider()
    );
    assert!(parse(&text).is_ok(), "{text}");
    for claims in ["groups", "[\"groups\"]", "{\"userinfo\": "] {
        let text = format!(
            "{}[auth.keycloak]\n[auth.keycloak.client_kwargs]\nclaims = '{claims}'\n",
            single_provider()
        );
        let message = error(&text);
        assert!(
            message.starts_with(
                "secrets.toml: auth.keycloak.client_kwargs.claims: must be a JSON object"
            ),
            "{message}"
        );
    }
}

// --- client authentication -------------------------------------------------------------------

/// The test-only keys of end2end/oidc/client-keys/ (README there).
fn client_key_file(name: &str) -> String {
    format!(
        "{}/../end2end/oidc/client-keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Their RFC 7638 thumbprints, as Node's crypto computes them (the README's recipe).
const RSA_THUMBPRINT: &str = "faiq4mWHjTw2m1VDWYBXxkV0Pz--UF0K1GebOxkvhfc";
const EC_THUMBPRINT: &str = "CDxY82AaSbnU-KnA3S_H-GsIismNaP7CSmBD-Uo6-CQ";

/// `[auth]` without a client secret, then `more`.
fn without_secret(more: &str) -> String {
    single_provider().replace("client_secret = \"shh\"\n", "") + more
}

fn provider_of(text: &str) -> ProviderConfig {
    let config = parse(text).expect("valid").expect("configured");
    config.providers[0].clone()
}

#[test]
fn each_client_authentication_method_is_read_by_its_name() {
    for method in AuthMethod::ALL {
        let text = format!(
            "{}token_endpoint_auth_method = \"{method}\"\nclient_private_key_file = \"{}\"\n",
            single_provider(),
            client_key_file("rsa.pem")
        );
        assert_eq!(provider_of(&text).client_auth.method, Some(method));
    }
    let default = provider_of(&single_provider());
    assert_eq!(default.client_auth.method, None, "chosen from discovery");
    assert!(default.client_auth.key.is_none());
    assert_eq!(
        default.client_auth.assertion_audience,
        AssertionAudience::TokenEndpoint
    );
}

#[test]
fn an_unknown_method_is_refused_with_the_list() {
    let message = error(&format!(
        "{}token_endpoint_auth_method = \"client_secret_jwt\"\n",
        single_provider()
    ));
    assert_eq!(
        message,
        "secrets.toml: auth.token_endpoint_auth_method: is not a method this crate knows; it \
         must be one of client_secret_basic, client_secret_post, private_key_jwt, none"
    );
}

#[test]
fn a_secret_method_without_a_secret_names_client_secret() {
    for method in ["client_secret_basic", "client_secret_post"] {
        let message = error(&without_secret(&format!(
            "token_endpoint_auth_method = \"{method}\"\n"
        )));
        assert!(
            message.starts_with("secrets.toml: auth.client_secret: is missing;"),
            "{message}"
        );
        assert!(message.contains(method), "{message}");
        assert!(message.contains("AUTH_CLIENT_SECRET"), "{message}");
    }
}

#[test]
fn private_key_jwt_without_a_key_names_the_key_and_the_file() {
    let message = error(&without_secret(
        "[auth.okta]\ntoken_endpoint_auth_method = \"private_key_jwt\"\n",
    ));
    assert!(
        message.starts_with("secrets.toml: auth.okta.client_private_key_file: is missing;"),
        "{message}"
    );
    for named in [
        "client_private_key_file = \"PATH\"",
        "client_private_key = ",
        "AUTH_OKTA_CLIENT_PRIVATE_KEY_FILE",
        "AUTH_OKTA_CLIENT_PRIVATE_KEY",
    ] {
        assert!(message.contains(named), "{named} in {message}");
    }
}

#[test]
fn private_key_jwt_needs_no_secret_and_its_key_id_is_the_thumbprint() {
    for (file, alg, thumbprint) in [
        ("rsa.pem", jsonwebtoken::Algorithm::RS256, RSA_THUMBPRINT),
        (
            "rsa-pkcs1.pem",
            jsonwebtoken::Algorithm::RS256,
            RSA_THUMBPRINT,
        ),
        ("ec.pem", jsonwebtoken::Algorithm::ES256, EC_THUMBPRINT),
    ] {
        let provider = provider_of(&without_secret(&format!(
            "token_endpoint_auth_method = \"private_key_jwt\"\nclient_private_key_file = \"{}\"\n",
            client_key_file(file)
        )));
        assert!(provider.client_secret.is_none());
        let key = provider.client_auth.key.expect("a key");
        assert_eq!(key.alg(), alg, "{file}");
        assert_eq!(key.kid(), thumbprint, "{file}");
    }
    let named = provider_of(&without_secret(&format!(
        "client_private_key_file = \"{}\"\nclient_key_id = \"2024-key\"\n",
        client_key_file("ec.pem")
    )));
    assert_eq!(named.client_auth.key.expect("a key").kid(), "2024-key");
}

#[test]
fn the_key_itself_comes_from_the_environment_and_never_prints() {
    let pem = std::fs::read_to_string(client_key_file("ec.pem")).expect("the test key");
    // As a CI secret often holds it: on one line, with `\n` escapes.
    let one_line = pem.trim_end().replace('\n', "\\n");
    for value in [pem.as_str(), one_line.as_str()] {
        let config = parse_with_env(
            &without_secret("[auth.okta]\ntoken_endpoint_auth_method = \"private_key_jwt\"\n"),
            &[("AUTH_OKTA_CLIENT_PRIVATE_KEY", value)],
        )
        .expect("valid")
        .expect("configured");
        let okta = &config.providers[0];
        assert_eq!(
            okta.client_auth.key.as_ref().map(ClientKey::kid),
            Some(EC_THUMBPRINT)
        );
        let debug = format!("{config:?}");
        for line in pem.lines().filter(|line| !line.starts_with("-----")) {
            assert!(!debug.contains(line), "the key in {debug}");
        }
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}

#[test]
fn a_key_that_cannot_sign_is_refused_without_quoting_it() {
    let sec1 = "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\\n-----END EC PRIVATE KEY-----";
    let message = error(&without_secret(&format!(
        "client_private_key = \"{sec1}\"\n"
    )));
    assert!(
        message.starts_with("secrets.toml: auth.client_private_key: is an EC key in SEC1 form"),
        "{message}"
    );
    assert!(message.contains("openssl pkcs8 -topk8"), "{message}");
    let message = error(&without_secret(
        "client_private_key = \"-----BEGIN PRIVATE KEY-----\\nbm90IGEga2V5\\n-----END PRIVATE KEY-----\"\n",
    ));
    assert!(
        message.starts_with(
            "secrets.toml: auth.client_private_key: is not a PEM private key this crate can sign with"
        ),
        "{message}"
    );
    assert!(!message.contains("bm90IGEga2V5"), "{message}");
    let missing = client_key_file("no-such-key.pem");
    let message = error(&without_secret(&format!(
        "client_private_key_file = \"{missing}\"\n"
    )));
    assert!(
        message.starts_with(&format!(
            "secrets.toml: auth.client_private_key_file: cannot read {missing}"
        )),
        "{message}"
    );
    let message = error(&format!(
        "{}client_private_key = \"x\"\nclient_private_key_file = \"{}\"\n",
        single_provider(),
        client_key_file("ec.pem")
    ));
    assert!(
        message.starts_with(
            "secrets.toml: auth.client_private_key_file: is set beside client_private_key"
        ),
        "{message}"
    );
}

#[test]
fn a_provider_without_secret_or_key_is_a_public_client() {
    let provider = provider_of(&without_secret(""));
    assert!(provider.client_secret.is_none());
    assert!(provider.client_auth.key.is_none());
    assert_eq!(provider.client_auth.method, None);
}

#[test]
fn the_assertion_audience_is_the_token_endpoint_or_the_issuer() {
    let text = format!(
        "{}client_assertion_audience = \"issuer\"\n",
        single_provider()
    );
    assert_eq!(
        provider_of(&text).client_auth.assertion_audience,
        AssertionAudience::Issuer
    );
    let message = error(&format!(
        "{}client_assertion_audience = \"aud\"\n",
        single_provider()
    ));
    assert_eq!(
        message,
        "secrets.toml: auth.client_assertion_audience: must be \"token_endpoint\" or \"issuer\""
    );
}

#[test]
fn named_providers_inherit_the_client_authentication_and_may_use_their_own() {
    let text = format!(
        "{}token_endpoint_auth_method = \"client_secret_post\"\n\
         [auth.jwt]\ntoken_endpoint_auth_method = \"private_key_jwt\"\n\
         client_private_key_file = \"{}\"\n[auth.post]\n",
        single_provider(),
        client_key_file("rsa.pem")
    );
    let config = parse(&text).expect("valid").expect("configured");
    let methods: Vec<_> = config
        .providers
        .iter()
        .map(|p| (p.name.as_deref(), p.client_auth.method))
        .collect();
    assert_eq!(
        methods,
        [
            (None, Some(AuthMethod::ClientSecretPost)),
            (Some("jwt"), Some(AuthMethod::PrivateKeyJwt)),
            (Some("post"), Some(AuthMethod::ClientSecretPost)),
        ]
    );
}

/// `[auth]` at Entra's `organizations` metadata, then `more`.
fn multi_tenant(more: &str) -> String {
    single_provider().replace(
        "https://accounts.example.com/.well-known/openid-configuration",
        "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration",
    ) + more
}

#[test]
fn tenants_is_any_or_a_list_of_tenant_ids() {
    assert_eq!(provider_of(&multi_tenant("")).tenants, None);
    assert_eq!(
        provider_of(&multi_tenant("tenants = \"any\"\n")).tenants,
        Some(Tenants::Any)
    );
    let listed = provider_of(&multi_tenant(
        "tenants = [\"72F988BF-86f1-41af-91ab-2d7cd011db47\", \"contoso_2\"]\n",
    ));
    assert_eq!(
        listed.tenants,
        Some(Tenants::Only(vec![
            "72f988bf-86f1-41af-91ab-2d7cd011db47".to_owned(),
            "contoso_2".to_owned()
        ]))
    );
    let tenants = listed.tenants.expect("listed");
    assert!(tenants.allows("72F988BF-86F1-41AF-91AB-2D7CD011DB47"));
    assert!(!tenants.allows("9188040d-6c67-4c5b-b112-36a304b66dad"));
    assert_eq!(
        listed.issuer,
        "https://login.microsoftonline.com/organizations/v2.0"
    );
}

#[test]
fn a_named_provider_has_tenants_of_its_own() {
    let text = format!(
        r#"
[auth]
redirect_uri = "https://app.example/oauth2callback"
cookie_secret = "{SECRET}"

[auth.google]
client_id = "g"
client_secret = "s"
server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"

[auth.entra]
client_id = "m"
client_secret = "s"
server_metadata_url = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
tenants = ["72f988bf-86f1-41af-91ab-2d7cd011db47"]
"#
    );
    let config = parse(&text).expect("valid").expect("configured");
    let named = |name: &str| {
        config
            .providers
            .iter()
            .find(|provider| provider.name.as_deref() == Some(name))
            .expect("configured")
    };
    assert_eq!(named("google").tenants, None);
    assert!(matches!(named("entra").tenants, Some(Tenants::Only(_))));
}

#[test]
fn bad_tenants_name_the_key_and_the_file() {
    for (value, key, expected) in [
        ("\"all\"", "auth.tenants", "must be \"any\""),
        ("[]", "auth.tenants", "non-empty list"),
        ("true", "auth.tenants", "must be \"any\""),
        ("[\"ok\", 7]", "auth.tenants[1]", "must be a tenant id"),
        ("[\"\"]", "auth.tenants[0]", "must be a tenant id"),
        ("[\"a/b\"]", "auth.tenants[0]", "must be a tenant id"),
        (
            "[\"any\", \"{tenantid}\"]",
            "auth.tenants[1]",
            "must be a tenant id",
        ),
        (
            &format!("[\"{}\"]", "x".repeat(65)),
            "auth.tenants[0]",
            "at most 64",
        ),
    ] {
        let message = error(&multi_tenant(&format!("tenants = {value}\n")));
        assert!(
            message.starts_with(&format!("secrets.toml: {key}: ")) && message.contains(expected),
            "{value}: {message}"
        );
    }
    // A provider without a path segment for the tenant is not a multi-tenant one.
    let message = error(&format!("{}tenants = \"any\"\n", single_provider()));
    assert!(
        message.starts_with("secrets.toml: auth.tenants: ")
            && message.contains("multi-tenant provider"),
        "{message}"
    );
    let message = error(&format!(
        r#"
[auth]
redirect_uri = "https://app.example/oauth2callback"
cookie_secret = "{SECRET}"

[auth.entra]
client_id = "m"
client_secret = "s"
server_metadata_url = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
tenants = "*"
"#
    ));
    assert!(
        message.starts_with("secrets.toml: auth.entra.tenants: "),
        "{message}"
    );
}

#[test]
fn use_par_is_off_unless_a_provider_or_auth_says() {
    let text = format!(
        "{}use_par = true\n[auth.google]\n[auth.okta]\nuse_par = false\n",
        single_provider()
    );
    let config = parse(&text).expect("valid").expect("configured");
    let par = |name: Option<&str>| {
        config
            .providers
            .iter()
            .find(|provider| provider.name.as_deref() == name)
            .map(|provider| provider.use_par)
    };
    assert_eq!(par(None), Some(true));
    assert_eq!(par(Some("google")), Some(true), "from [auth]");
    assert_eq!(par(Some("okta")), Some(false));
    assert!(!provider_of(&single_provider()).use_par);
    assert_eq!(
        error(&format!(
            "{}[auth.okta]\nuse_par = \"yes\"\n",
            single_provider()
        )),
        "secrets.toml: auth.okta.use_par: must be true or false (no quotes)"
    );
}

/// The unknown-key messages are the reference a typo meets: each names every key it could
/// have meant.
#[test]
fn unknown_key_messages_list_every_per_provider_key() {
    let in_auth = error(&format!("{}use_parr = true\n", single_provider()));
    let in_provider = error(&format!(
        "{}[auth.okta]\nuse_parr = true\n",
        single_provider()
    ));
    for key in PER_PROVIDER.iter().chain(PROVIDER_KEYS.iter()) {
        assert!(in_auth.contains(key), "{key} missing in: {in_auth}");
        assert!(in_provider.contains(key), "{key} missing in: {in_provider}");
    }
}

#[test]
fn dpop_is_per_provider_and_needs_the_access_token_exposed() {
    let text = format!(
        "{}expose_tokens = [\"access\"]\n[auth.google]\n[auth.okta]\ndpop = true\n",
        single_provider()
    );
    let config = parse(&text).expect("valid").expect("configured");
    let dpop = |name: &str| {
        config
            .providers
            .iter()
            .find(|provider| provider.name.as_deref() == Some(name))
            .map(|provider| provider.dpop)
    };
    assert_eq!(dpop("okta"), Some(true));
    assert_eq!(dpop("google"), Some(false), "off unless said");
    assert!(!provider_of(&single_provider()).dpop);
    // Without "access" exposed nothing could use the bound token: refused, naming the fix.
    let message = error(&format!(
        "{}expose_tokens = \"id\"\n[auth.okta]\ndpop = true\n",
        single_provider()
    ));
    assert!(
        message.starts_with("secrets.toml: auth.okta.dpop: ") && message.contains("\"access\""),
        "{message}"
    );
    let message = error(&format!("{}dpop = true\n", single_provider()));
    assert!(
        message.starts_with("secrets.toml: auth.dpop: "),
        "{message}"
    );
    assert_eq!(
        error(&format!(
            "{}expose_tokens = \"access\"\ndpop = \"yes\"\n",
            single_provider()
        )),
        "secrets.toml: auth.dpop: must be true or false (no quotes)"
    );
}

/// A provider named as a per-provider setting would be read as that setting by the others.
#[test]
fn a_provider_may_not_be_named_as_a_setting() {
    for name in ["dpop", "userinfo", "tenants"] {
        let message = error(&format!(
            "{}expose_tokens = \"access\"\n[auth.{name}]\nclient_id = \"x\"\n",
            single_provider()
        ));
        assert!(
            message.starts_with(&format!(
                "secrets.toml: auth.{name}: is the name of a setting"
            )),
            "{message}"
        );
    }
}
