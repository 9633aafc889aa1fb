//! Schema and seed data. Each migration runs once per database (recorded in `seaql_migrations`)
//! and is written to be harmless if run again; all of them work on SQLite and Postgres.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m0001_create_products;
mod m0002_seed_products;

pub use m0002_seed_products::SEED;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_create_products::Migration),
            Box::new(m0002_seed_products::Migration),
        ]
    }
}
