//! The demo catalogue. Prices run from $2.99 to $2,499 so that checkouts land in every bucket of
//! `webstore_checkout_amount_usd` (10 … 25000); ids `p-0001`… are stable, other services' tests
//! use them.

use sea_orm_migration::prelude::*;

use super::m0001_create_products::Products;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_seed_products"
    }
}

/// `(id, name, category, description, price_cents, stock)`.
pub type SeedRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    i32,
);

pub const SEED: &[SeedRow] = &[
    (
        "p-0001",
        "Wireless Noise-Cancelling Headphones",
        "electronics",
        "Over-ear Bluetooth headphones with active noise cancelling and 30-hour battery life.",
        24_999,
        120,
    ),
    (
        "p-0002",
        "USB-C Charging Cable, 2 m",
        "electronics",
        "Braided USB-C to USB-C cable, 100 W power delivery, 480 Mbit/s data.",
        1_299,
        800,
    ),
    (
        "p-0003",
        "55-inch 4K Smart TV",
        "electronics",
        "Ultra HD LED television with HDR10, Dolby Vision and built-in streaming apps.",
        64_999,
        35,
    ),
    (
        "p-0004",
        "Mirrorless Camera Body, 24 MP",
        "electronics",
        "Full-frame mirrorless camera with in-body stabilisation and 4K60 video.",
        189_900,
        12,
    ),
    (
        "p-0005",
        "Mechanical Keyboard, Tenkeyless",
        "electronics",
        "Hot-swappable switches, PBT keycaps, USB-C and Bluetooth.",
        8_999,
        200,
    ),
    (
        "p-0006",
        "The Pragmatic Programmer, 20th Anniversary Edition",
        "books",
        "Hardcover. Timeless advice on the craft of software development.",
        4_295,
        150,
    ),
    (
        "p-0007",
        "Designing Data-Intensive Applications",
        "books",
        "Paperback. The big ideas behind reliable, scalable and maintainable systems.",
        5_499,
        140,
    ),
    (
        "p-0008",
        "The Lighthouse Murders (paperback)",
        "books",
        "A coastal mystery novel; book one of the Harbour Detective series.",
        999,
        300,
    ),
    (
        "p-0009",
        "Goodnight, Little Fox",
        "books",
        "Illustrated picture book for ages 2 to 5, board pages.",
        799,
        260,
    ),
    (
        "p-0010",
        "Chef's Knife, 8-inch",
        "home",
        "Forged stainless steel blade, full tang, pakkawood handle.",
        7_900,
        90,
    ),
    (
        "p-0011",
        "Cast Iron Skillet, 12-inch",
        "home",
        "Pre-seasoned cast iron pan for stovetop, oven and campfire.",
        3_495,
        180,
    ),
    (
        "p-0012",
        "Espresso Machine with Milk Frother",
        "home",
        "15-bar pump espresso maker with steam wand and 1.8 l water tank.",
        49_900,
        25,
    ),
    (
        "p-0013",
        "Robot Vacuum Cleaner",
        "home",
        "Lidar navigation, auto-empty base, 180-minute runtime.",
        29_999,
        40,
    ),
    (
        "p-0014",
        "Two-Person Backpacking Tent",
        "outdoor",
        "Freestanding 3-season tent, 1.6 kg, two doors and vestibules.",
        27_900,
        45,
    ),
    (
        "p-0015",
        "Insulated Water Bottle, 1 l",
        "outdoor",
        "Double-wall vacuum stainless steel; cold for 24 h, hot for 12 h.",
        2_995,
        500,
    ),
    (
        "p-0016",
        "Carbon Trekking Poles (pair)",
        "outdoor",
        "Three-section carbon poles with cork grips, 420 g the pair.",
        11_900,
        70,
    ),
    (
        "p-0017",
        "Electric Mountain Bike",
        "outdoor",
        "Full-suspension e-MTB, 750 Wh battery, 12-speed drivetrain.",
        249_900,
        6,
    ),
    (
        "p-0018",
        "Merino Wool Hiking Socks (3-pack)",
        "apparel",
        "Cushioned mid-weight merino blend, sizes S to XL.",
        2_400,
        400,
    ),
    (
        "p-0019",
        "Waterproof Rain Jacket",
        "apparel",
        "Three-layer breathable shell with pit zips and adjustable hood.",
        15_900,
        85,
    ),
    (
        "p-0020",
        "Organic Cotton T-Shirt",
        "apparel",
        "Crew neck, 180 g/m² organic cotton, unisex fit.",
        1_900,
        600,
    ),
    (
        "p-0021",
        "Trail Running Shoes",
        "apparel",
        "Lightweight trail shoes with 5 mm lugs and rock plate.",
        13_900,
        110,
    ),
    (
        "p-0022",
        "Single-Origin Coffee Beans, 1 lb",
        "grocery",
        "Whole-bean Ethiopian Yirgacheffe, medium roast, notes of citrus and jasmine.",
        1_699,
        350,
    ),
    (
        "p-0023",
        "Extra Virgin Olive Oil, 500 ml",
        "grocery",
        "Cold-pressed, first harvest, from a single estate in Crete.",
        1_250,
        420,
    ),
    (
        "p-0024",
        "Dark Chocolate Bar, 72%",
        "grocery",
        "100 g bar of fair-trade single-origin dark chocolate.",
        349,
        900,
    ),
    (
        "p-0025",
        "Sea Salt Crackers",
        "grocery",
        "Thin-baked wheat crackers with flaky sea salt, 200 g box.",
        299,
        700,
    ),
    (
        "p-0026",
        "Gaming Laptop, 16-inch",
        "electronics",
        "16-inch 240 Hz display, 32 GB RAM, 1 TB SSD, discrete graphics.",
        229_900,
        15,
    ),
    (
        "p-0027",
        "Cork Yoga Mat, 6 mm",
        "outdoor",
        "Natural cork surface over a rubber base, non-slip when wet.",
        4_500,
        160,
    ),
    (
        "p-0028",
        "Scented Soy Candle",
        "home",
        "Hand-poured soy wax candle, cedar and bergamot, 50-hour burn.",
        1_800,
        240,
    ),
    (
        "p-0029",
        "Seasonal Vegetarian Cookbook",
        "books",
        "Hardcover. 120 recipes organised by season, with photography.",
        3_200,
        95,
    ),
    (
        "p-0030",
        "Down Sleeping Bag, -7 °C",
        "outdoor",
        "800-fill-power down mummy bag, 1.1 kg, with compression sack.",
        32_900,
        30,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut insert = Query::insert();
        insert
            .into_table(Products::Table)
            .columns([
                Products::Id,
                Products::Name,
                Products::Category,
                Products::Description,
                Products::PriceCents,
                Products::Stock,
            ])
            // Rows that already exist (edited by an operator, or a re-run) are left as they are.
            .on_conflict(OnConflict::column(Products::Id).do_nothing().to_owned());
        for &(id, name, category, description, price_cents, stock) in SEED {
            insert
                .values([
                    id.into(),
                    name.into(),
                    category.into(),
                    description.into(),
                    price_cents.into(),
                    stock.into(),
                ])
                .map_err(|e| DbErr::Migration(format!("seed row {id}: {e}")))?;
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let ids = SEED.iter().map(|row| row.0);
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Products::Table)
                    .and_where(Expr::col(Products::Id).is_in(ids))
                    .to_owned(),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::ProductId;

    #[test]
    fn seed_ids_are_valid_unique_and_cover_the_price_range() {
        let mut ids: Vec<_> = SEED.iter().map(|r| r.0).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), SEED.len());
        for n in 1..=24 {
            assert!(
                ids.contains(&format!("p-{n:04}").as_str()),
                "p-{n:04} must exist"
            );
        }
        assert!(SEED
            .iter()
            .all(|r| ProductId::parse(r.0).is_ok() && r.4 > 0 && r.5 > 0));
        assert!(SEED.iter().any(|r| r.4 < 500), "something under $5");
        assert!(SEED.iter().any(|r| r.4 > 200_000), "something over $2,000");
        let categories: std::collections::BTreeSet<_> = SEED.iter().map(|r| r.2).collect();
        assert_eq!(categories.len(), 6);
    }
}
