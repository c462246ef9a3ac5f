package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend/sqlstore/sqlite"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a b", "wasend.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	db, err := sqlite.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	assert.Equal(t, 1, db.Stats().MaxOpenConnections)
	assert.FileExists(t, path)

	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "1",
		"foreign_keys": "1",
		"busy_timeout": "10000",
	} {
		var got string
		require.NoError(t, db.QueryRow("PRAGMA "+pragma).Scan(&got), pragma)
		assert.Equal(t, want, got, "PRAGMA %s", pragma)
	}
}

func TestOpenRefusesNoFile(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:", ":memory:?cache=shared"} {
		db, err := sqlite.Open(path)
		assert.Error(t, err, "Open(%q)", path)
		assert.Nil(t, db, "Open(%q)", path)
	}
	_, err := sqlite.Open(filepath.Join(t.TempDir(), "missing", "dir", "x.db"))
	assert.Error(t, err, "a folder that does not exist")
}

func TestDSN(t *testing.T) {
	t.Parallel()
	assert.Equal(t,
		"file:/var/lib/app/wasend%20db.sqlite?_pragma=busy_timeout%2810000%29&_pragma=journal_mode%28WAL%29&_pragma=synchronous%28NORMAL%29&_pragma=foreign_keys%281%29&_txlock=immediate",
		sqlite.DSN("/var/lib/app/wasend db.sqlite"))
}
