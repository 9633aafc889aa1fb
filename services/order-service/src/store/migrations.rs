use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateOrders),
            Box::new(CreateIdempotencyKeys),
            Box::new(AddReconciliation),
        ]
    }
}

#[derive(DeriveMigrationName)]
struct CreateOrders;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    Customer,
    Status,
    Country,
    PaymentMethod,
    TotalCents,
    Lines,
    PaymentId,
    TraceId,
    CreatedAtMs,
    UpdatedAtMs,
    SpanId,
    ReconcileAttempts,
    ReconcileAfterMs,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOrders {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Orders::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Orders::Customer).string_len(128).not_null())
                    .col(ColumnDef::new(Orders::Status).string_len(32).not_null())
                    .col(ColumnDef::new(Orders::Country).string_len(2).not_null())
                    .col(
                        ColumnDef::new(Orders::PaymentMethod)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Orders::TotalCents).big_integer().not_null())
                    .col(ColumnDef::new(Orders::Lines).text().not_null())
                    .col(ColumnDef::new(Orders::PaymentId).string_len(64).null())
                    .col(ColumnDef::new(Orders::TraceId).string_len(32).null())
                    .col(ColumnDef::new(Orders::CreatedAtMs).big_integer().not_null())
                    .col(ColumnDef::new(Orders::UpdatedAtMs).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_orders_customer")
                    .table(Orders::Table)
                    .col(Orders::Customer)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Orders::Table).to_owned())
            .await
    }
}

/// One row per (customer, `Idempotency-Key`); see `store::idempotency`.
struct CreateIdempotencyKeys;

impl MigrationName for CreateIdempotencyKeys {
    fn name(&self) -> &str {
        "m20250201_000001_create_idempotency_keys"
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Customer,
    Key,
    RequestHash,
    State,
    OrderId,
    ResponseStatus,
    ResponseBody,
    CreatedAtMs,
    ExpiresAtMs,
    LockedUntilMs,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateIdempotencyKeys {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(IdempotencyKeys::Customer)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::Key)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::RequestHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::State)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::OrderId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::ResponseStatus)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(IdempotencyKeys::ResponseBody).text().null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::CreatedAtMs)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::ExpiresAtMs)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::LockedUntilMs)
                            .big_integer()
                            .not_null(),
                    )
                    // The idempotency guarantee lives in this constraint.
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Customer)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_idempotency_keys_expires_at")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::ExpiresAtMs)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}

/// What the reconciler needs: how often it asked the gateway about an order and when it may ask
/// again, and the checkout span it links its own span to. One column per statement: SQLite
/// alters one column at a time.
struct AddReconciliation;

impl MigrationName for AddReconciliation {
    fn name(&self) -> &str {
        "m20260101_000001_add_reconciliation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddReconciliation {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(Orders::SpanId)
                .string_len(16)
                .null()
                .to_owned(),
            ColumnDef::new(Orders::ReconcileAttempts)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Orders::ReconcileAfterMs)
                .big_integer()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_orders_status")
                    .table(Orders::Table)
                    .col(Orders::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("idx_orders_status").to_owned())
            .await?;
        for column in [
            Orders::ReconcileAfterMs,
            Orders::ReconcileAttempts,
            Orders::SpanId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
