package sqlstore_test

import (
	"context"
	"database/sql"
	"log"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/wasend/wasend/sqlstore"
)

// Example_postgres opens PostgreSQL through pgx's stdlib, with no driver
// registration: New detects the dialect from the connector.
func Example_postgres() {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL")) // postgres://user@host:5432/db
	if err != nil {
		log.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close() // the store never closes it
	db.SetMaxOpenConns(20)

	store, err := sqlstore.New(db)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	// Hand store to wasend.New.
}

// Example_mysql opens MySQL or MariaDB with the recommended settings.
func Example_mysql() {
	ctx := context.Background()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = "wasend", os.Getenv("MYSQL_PASSWORD")
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", "127.0.0.1:3306", "wasend"
	cfg.ParseTime, cfg.Loc = true, time.UTC
	cfg.InterpolateParams = true // one round trip per statement
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()

	store, err := sqlstore.New(db)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
}
