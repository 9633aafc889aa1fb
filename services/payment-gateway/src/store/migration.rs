//! Schema migrations, applied at start-up by `Application::build`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, integer, string, string_len, string_len_uniq, string_null, text,
};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateCharges)]
    }
}

#[derive(DeriveIden)]
enum Charges {
    Table,
    Id,
    IdempotencyKey,
    RequestHash,
    AmountCents,
    Currency,
    PaymentMethod,
    Country,
    Reference,
    Status,
    DeclineCode,
    ResponseStatus,
    ResponseBody,
    CreatedAt,
}

struct CreateCharges;

impl MigrationName for CreateCharges {
    fn name(&self) -> &str {
        "m20250101_000001_create_charges"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateCharges {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Charges::Table)
                    .if_not_exists()
                    .col(string_len(Charges::Id, 64).primary_key())
                    // The idempotency guarantee lives in this constraint.
                    .col(string_len_uniq(Charges::IdempotencyKey, 255))
                    .col(string_len(Charges::RequestHash, 64))
                    .col(big_integer(Charges::AmountCents))
                    .col(string_len(Charges::Currency, 3))
                    .col(string_len(Charges::PaymentMethod, 32))
                    .col(string_len(Charges::Country, 2))
                    .col(string_len(Charges::Reference, 512))
                    .col(string_len(Charges::Status, 16))
                    .col(string_null(Charges::DeclineCode))
                    .col(integer(Charges::ResponseStatus))
                    .col(text(Charges::ResponseBody))
                    .col(string(Charges::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_charges_reference")
                    .table(Charges::Table)
                    .col(Charges::Reference)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Charges::Table).to_owned())
            .await
    }
}
