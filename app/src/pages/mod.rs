mod account;
mod claims;
mod home;
mod private;
mod tokens;

pub use account::AccountPage;
pub use claims::ClaimsPage;
pub use home::HomePage;
pub use private::PrivatePage;
pub use tokens::TokensPage;
