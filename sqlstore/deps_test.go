package sqlstore_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// goListDeps returns the packages that pkg links, as go list -deps reports.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", pkg).CombinedOutput()
	require.NoError(t, err, "go list -deps %s: %s", pkg, out)
	return strings.Fields(string(out))
}

// drivers are the database drivers' module paths.
var drivers = []string{"modernc.org/sqlite", "github.com/go-sql-driver/mysql", "github.com/jackc/pgx"}

// linked returns the driver modules that deps (package paths) hold
// packages of, in the order of drivers.
func linked(deps []string) []string {
	var got []string
	for _, m := range drivers {
		for _, d := range deps {
			if d == m || strings.HasPrefix(d, m+"/") {
				got = append(got, m)
				break
			}
		}
	}
	return got
}

// TestNoDriverLinked checks that sqlstore links no database driver, so
// that a PostgreSQL user does not link MySQL's and SQLite's, and that the
// sub-package sqlstore/sqlite links SQLite's only.
func TestNoDriverLinked(t *testing.T) {
	t.Parallel()
	got := linked(goListDeps(t, "github.com/wasend/wasend/sqlstore"))
	require.Empty(t, got, "sqlstore links database drivers")

	got = linked(goListDeps(t, "github.com/wasend/wasend/sqlstore/sqlite"))
	require.Equal(t, []string{"modernc.org/sqlite"}, got, "drivers that sqlstore/sqlite links")
}
