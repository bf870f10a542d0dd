//! A fresh, empty PostgreSQL database per test, created on the server named
//! by `WARDEN_TEST_POSTGRES_URL` and dropped when the test ends. The one
//! helper the migration, core and black-box tests share (feature
//! `test-support`).

use sea_orm_migration::sea_orm::{ConnectionTrait, Database};

pub const URL_VAR: &str = "WARDEN_TEST_POSTGRES_URL";

pub struct PostgresDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PostgresDatabase {
    /// `None` (with a note on stderr) when the variable is unset: the
    /// PostgreSQL half of the suite skips locally. CI always sets it.
    pub async fn create() -> Option<Self> {
        let Ok(admin_url) = std::env::var(URL_VAR) else {
            eprintln!("{URL_VAR} is not set: skipping the PostgreSQL half of this test");
            return None;
        };
        let name = format!("warden_test_{}", uuid::Uuid::now_v7().simple());
        let admin = Database::connect(&admin_url).await.unwrap_or_else(|err| {
            panic!("{URL_VAR} is set but PostgreSQL is unreachable ({err}); start it or unset it")
        });
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let mut url = url::Url::parse(&admin_url).expect("WARDEN_TEST_POSTGRES_URL is a URL");
        url.set_path(&name);
        Some(Self { admin_url, name, url: url.to_string() })
    }

    /// Drops the database now, cutting off every connection to it.
    pub async fn drop_now(&self) {
        let admin = Database::connect(&self.admin_url).await.expect("admin connection");
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
            .await
            .expect("drop test database");
        admin.close().await.ok();
    }

    /// Re-creates a dropped database (empty).
    pub async fn recreate(&self) {
        let admin = Database::connect(&self.admin_url).await.expect("admin connection");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{}\"", self.name))
            .await
            .expect("re-create test database");
        admin.close().await.ok();
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // Drop runs outside any async context we can rely on; use a thread of
        // its own with a small runtime so the database never outlives the test.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let admin = Database::connect(&admin_url).await.map_err(std::io::Error::other)?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .map_err(std::io::Error::other)?;
                admin.close().await.map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}
