mod account;
mod claims;
mod home;
mod private;
mod sessions;
mod tokens;

pub use account::AccountPage;
pub use claims::ClaimsPage;
pub use home::HomePage;
pub use private::PrivatePage;
pub use sessions::SessionsPage;
pub use tokens::TokensPage;
