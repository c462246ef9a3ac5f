package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
)

// Open gives sqlstore a SQLite database file.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "wasend-sqlite")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sqlite.Open(filepath.Join(dir, "wasend.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close() // the store never closes it

	store, err := sqlstore.New(db)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("dialect:", store.Dialect())
	fmt.Println("connections:", db.Stats().MaxOpenConnections)
	// Output:
	// dialect: sqlite
	// connections: 1
}
