use leptos::{either::Either, prelude::*};
use leptos_login::{LoginButton, use_user};

/// Everything the provider said about the visitor, as `use_user()` holds it.
#[component]
pub fn ClaimsPage() -> impl IntoView {
    let user = use_user();
    if !user.is_logged_in() {
        return Either::Left(view! {
            <h1>"Your claims"</h1>
            <p>"You are not signed in, so there is nothing to show."</p>
            <LoginButton />
        });
    }
    let rows = user
        .claims_as_text()
        .map(|(claim, value)| {
            view! {
                <tr>
                    <th scope="row">{claim.to_owned()}</th>
                    <td>{value}</td>
                </tr>
            }
        })
        .collect_view();
    Either::Right(view! {
        <h1>"Your claims"</h1>
        <table id="claims">
            <tbody>{rows}</tbody>
        </table>
        <p>
            <a href="/">"Home"</a>
        </p>
    })
}
