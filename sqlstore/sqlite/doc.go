// Package sqlite opens SQLite databases for sqlstore, through
// modernc.org/sqlite (pure Go, no cgo).
//
// It is a package of its own so that only programs that use SQLite link
// the SQLite driver: sqlstore itself links no database driver.
//
//	db, err := sqlite.Open("wasend.db") // the caller owns db, and closes it
//	store, err := sqlstore.New(db)      // the dialect is detected: sqlite
//	err = store.Migrate(ctx)
//
// # Settings
//
// Open uses DSN: WAL journal, synchronous=NORMAL, foreign keys on, a busy
// timeout of BusyTimeout milliseconds, and transactions that take the
// write lock when they begin. It gives the pool a single connection, so
// that the writers of one process queue in Go rather than poll in SQLite's
// busy handler; other processes wait up to BusyTimeout. To choose other
// pool settings, pass DSN to sql.Open("sqlite", ...) yourself: importing
// this package registers modernc.org/sqlite's driver as "sqlite".
package sqlite
