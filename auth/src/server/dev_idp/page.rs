//! The development provider's sign-in page: pick a test user or type anyone.
use super::{AuthorizeRequest, TEST_USERS};
use crate::server::html::{escape, page};

pub(super) fn sign_in(request: &AuthorizeRequest, cancel_href: &str) -> String {
    let hidden = hidden_fields(request);
    let users: String = TEST_USERS
        .iter()
        .map(|(name, email)| {
            format!(
                "<li><form method=\"post\">{hidden}\
                 <input type=\"hidden\" name=\"name\" value=\"{name}\">\
                 <input type=\"hidden\" name=\"email\" value=\"{email}\">\
                 <button type=\"submit\">Sign in as {name}</button> <small>{email}</small>\
                 </form></li>",
                name = escape(name),
                email = escape(email),
            )
        })
        .collect();
    let body = format!(
        "<p style=\"background:#fff8c5;border:1px solid #d4a72c;padding:.5rem 1rem\">\
         Development sign-in: anyone can sign in as anyone here. Configure a real provider \
         in <code>secrets.toml</code> before you deploy (see the README).</p>\
         <h1>Sign in</h1>\
         <ul style=\"list-style:none;padding:0\">{users}</ul>\
         <h2>Someone else</h2>\
         <form method=\"post\">{hidden}\
         <p><label>Name <input name=\"name\" required autocomplete=\"off\"></label></p>\
         <p><label>Email <input name=\"email\" type=\"email\" required autocomplete=\"off\"></label></p>\
         <p><button type=\"submit\">Sign in</button></p></form>\
         <p><a id=\"cancel\" href=\"{}\">Cancel</a></p>",
        escape(cancel_href)
    );
    page("Development sign-in", &body)
}

pub(super) fn error(message: &str) -> String {
    page(
        "Development sign-in",
        &format!("<h1>Development sign-in</h1><p>{}</p>", escape(message)),
    )
}

fn hidden_fields(request: &AuthorizeRequest) -> String {
    let fields = [
        ("response_type", Some(request.response_type.as_str())),
        ("client_id", Some(request.client_id.as_str())),
        ("redirect_uri", Some(request.redirect_uri.as_str())),
        ("state", request.state.as_deref()),
        ("nonce", request.nonce.as_deref()),
        ("code_challenge", request.code_challenge.as_deref()),
        (
            "code_challenge_method",
            request.code_challenge_method.as_deref(),
        ),
    ];
    fields
        .iter()
        .filter_map(|(name, value)| {
            value.map(|value| {
                format!(
                    "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                    escape(value)
                )
            })
        })
        .collect()
}
