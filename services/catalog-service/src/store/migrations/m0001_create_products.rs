use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_create_products"
    }
}

#[derive(DeriveIden)]
pub(super) enum Products {
    Table,
    Id,
    Name,
    Category,
    Description,
    PriceCents,
    Stock,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Products::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Products::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Products::Category).string_len(64).not_null())
                    .col(ColumnDef::new(Products::Description).text().not_null())
                    .col(
                        ColumnDef::new(Products::PriceCents)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(Products::PriceCents).gte(0)),
                    )
                    .col(
                        ColumnDef::new(Products::Stock)
                            .integer()
                            .not_null()
                            .check(Expr::col(Products::Stock).gte(0)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_products_category")
                    .table(Products::Table)
                    .col(Products::Category)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Products::Table).if_exists().to_owned())
            .await
    }
}
