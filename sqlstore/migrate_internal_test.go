package sqlstore

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMigrationFiles(t *testing.T) {
	var names []string
	for i, d := range Dialects() {
		ms, err := dialects[d].migrations()
		require.NoError(t, err, d)
		require.NotEmpty(t, ms, d)
		var got []string
		for j, m := range ms {
			require.Equal(t, j+1, m.version, "%s: versions are 1, 2, 3, ...", d)
			require.NotEmpty(t, m.stmts, m.name)
			got = append(got, m.name)
		}
		require.Equal(t, SchemaVersion, ms[len(ms)-1].version, d)
		if i == 0 {
			names = got
		}
		require.Equal(t, names, got, "every dialect has the same migrations")
	}
}

func TestSplitSQL(t *testing.T) {
	got := splitSQL(`-- a comment; with a semicolon;
CREATE TABLE a (
    x int, -- a comment; not the end
    y text
);

INSERT INTO a VALUES (1),
    (2);
SELECT 1`)
	require.Equal(t, []string{
		"CREATE TABLE a (\n    x int, -- a comment; not the end\n    y text\n)",
		"INSERT INTO a VALUES (1),\n    (2)",
		"SELECT 1",
	}, got)
}
