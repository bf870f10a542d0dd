//! Small column and index builders shared by the migrations. They only save
//! typing: each migration's schema is still spelled out in its own file.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

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

/// Runs `(name, CREATE INDEX …)` statements on PostgreSQL only: indexes
/// SQLite has no counterpart for (trigram, GIN, operator classes).
pub async fn create_postgres_indexes(
    manager: &SchemaManager<'_>,
    indexes: &[(&str, &str)],
) -> Result<(), DbErr> {
    if manager.get_database_backend() == DatabaseBackend::Postgres {
        for (_, statement) in indexes {
            manager.get_connection().execute_unprepared(statement).await?;
        }
    }
    Ok(())
}

/// Drops what [`create_postgres_indexes`] created, by name.
pub async fn drop_postgres_indexes(
    manager: &SchemaManager<'_>,
    indexes: &[(&str, &str)],
) -> Result<(), DbErr> {
    if manager.get_database_backend() == DatabaseBackend::Postgres {
        for (name, _) in indexes {
            let drop = format!("DROP INDEX IF EXISTS {name}");
            manager.get_connection().execute_unprepared(&drop).await?;
        }
    }
    Ok(())
}
