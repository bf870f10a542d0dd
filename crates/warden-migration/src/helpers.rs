//! Small column and index builders shared by the migrations. They only save
//! typing: each migration's schema is still spelled out in its own file.

use sea_orm_migration::{prelude::*, schema::*};

/// A (non-unique) index on `table(cols...)`.
pub async fn index<T, C, I>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: I,
) -> Result<(), DbErr>
where
    T: IntoIden + 'static,
    C: IntoIden + 'static,
    I: IntoIterator<Item = C>,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for c in cols {
        stmt.col(c);
    }
    manager.create_index(stmt.to_owned()).await
}

/// A unique index on `table(cols...)`.
pub async fn unique<T, C, I>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: I,
) -> Result<(), DbErr>
where
    T: IntoIden + 'static,
    C: IntoIden + 'static,
    I: IntoIterator<Item = C>,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table).unique();
    for c in cols {
        stmt.col(c);
    }
    manager.create_index(stmt.to_owned()).await
}

pub fn ts<T: IntoIden>(col: T) -> ColumnDef {
    timestamp_with_time_zone(col)
}

pub fn ts_null<T: IntoIden>(col: T) -> ColumnDef {
    timestamp_with_time_zone_null(col)
}

/// A JSON object column, `{}` by default.
pub fn json_object<T: IntoIden>(col: T) -> ColumnDef {
    json_binary(col).default("{}").take()
}

pub async fn drop_table<T: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(table).to_owned()).await
}
