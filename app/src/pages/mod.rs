mod claims;
mod home;
mod private;

pub use claims::ClaimsPage;
pub use home::HomePage;
pub use private::PrivatePage;
