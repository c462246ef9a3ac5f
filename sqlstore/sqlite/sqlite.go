package sqlite

import (
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	msqlite "modernc.org/sqlite"
)

// BusyTimeout is how long, in milliseconds, a connection that Open opens
// waits for another writer (busy_timeout).
const BusyTimeout = 10000

// DSN returns the modernc.org/sqlite DSN that Open uses for the database
// file at path: WAL journal, synchronous=NORMAL, foreign keys on, a busy
// timeout of BusyTimeout, and transactions that take the write lock when
// they begin (_txlock=immediate), so that two writers never deadlock on a
// lock upgrade.
func DSN(path string) string {
	v := url.Values{}
	v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout))
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(NORMAL)")
	v.Add("_pragma", "foreign_keys(1)")
	v.Add("_txlock", "immediate")
	p := "file:" + (&url.URL{Path: path}).EscapedPath()
	return p + "?" + v.Encode()
}

// Open opens the SQLite database file at path (creating it if needed) with
// modernc.org/sqlite and DSN, ready for sqlstore.New. It limits the pool to
// one connection: SQLite runs one writer at a time, and one connection
// queues writers in Go instead of in SQLite's busy handler, which polls.
// Other processes may still open the file; the busy timeout covers them.
// The caller closes the *sql.DB.
func Open(path string) (*sql.DB, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("sqlite: Open needs a file path, not %q", path)
	}
	c, err := msqlite.NewConnector(DSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.Ping(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	return db, nil
}
