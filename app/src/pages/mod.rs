mod claims;
mod home;
mod login;
mod private;

pub use claims::ClaimsPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use private::PrivatePage;
