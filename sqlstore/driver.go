package sqlstore

import (
	"database/sql"
	"reflect"
	"strings"
)

// This file knows the database drivers without importing them, so that a
// program links only the driver it uses: it goes by the package path of
// the driver's types, and reads their errors through methods and fields.

// Driver packages, as the package paths of their types.
const (
	pkgPgx    = "github.com/jackc/pgx/"
	pkgPq     = "github.com/lib/pq"
	pkgMySQL  = "github.com/go-sql-driver/mysql"
	pkgSQLite = "modernc.org/sqlite"
)

// detect tells the dialect from the package of the *sql.DB's driver type:
// pgx's stdlib (or lib/pq), go-sql-driver/mysql or modernc.org/sqlite. A
// driver wrapped by another package (tracing, metrics) is not recognised;
// its user passes WithDialect.
func detect(db *sql.DB) (Dialect, bool) {
	switch p := pkgPath(db.Driver()); {
	case strings.HasPrefix(p, pkgPgx) || p == pkgPq:
		return Postgres, true
	case p == pkgMySQL:
		return MySQL, true
	case p == pkgSQLite:
		return SQLite, true
	}
	return "", false
}

// pkgPath returns the package path of v's type, pointers removed, or ""
// for nil and unnamed types.
func pkgPath(v any) string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return ""
	}
	return t.PkgPath()
}

// driverError returns the first error in err's tree (as errors.As walks
// it) whose type is defined in the package pkg.
func driverError(err error, pkg string) (error, bool) {
	for err != nil {
		if pkgPath(err) == pkg {
			return err, true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if de, ok := driverError(e, pkg); ok {
					return de, true
				}
			}
			return nil, false
		default:
			return nil, false
		}
	}
	return nil, false
}

// sqliteCode returns the extended result code of a modernc.org/sqlite
// error (its *Error's Code method).
func sqliteCode(err error) (int, bool) {
	de, ok := driverError(err, pkgSQLite)
	if !ok {
		return 0, false
	}
	c, ok := de.(interface{ Code() int })
	if !ok {
		return 0, false
	}
	return c.Code(), true
}

// mysqlNumber returns the server error number of a go-sql-driver/mysql
// error (its *MySQLError's Number field, a uint16).
func mysqlNumber(err error) (uint64, bool) {
	de, ok := driverError(err, pkgMySQL)
	if !ok {
		return 0, false
	}
	v := reflect.ValueOf(de)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0, false
	}
	f := v.FieldByName("Number")
	if !f.IsValid() || !f.CanUint() {
		return 0, false
	}
	return f.Uint(), true
}

// sqliteBusy reports whether err is SQLite's SQLITE_BUSY (5) or
// SQLITE_LOCKED (6), in any of their extended forms.
func sqliteBusy(err error) bool {
	c, ok := sqliteCode(err)
	c &= 0xff
	return ok && (c == 5 || c == 6)
}

// mysqlAlreadyApplied reports whether err says that what a MySQL DDL
// statement adds exists already: a duplicate column (1060) or key name
// (1061). MySQL commits DDL statement by statement and MySQL 8.0 has no
// ADD COLUMN IF NOT EXISTS, so a migration interrupted midway leaves such
// statements behind it, and the next run finds them applied.
func mysqlAlreadyApplied(err error) bool {
	n, ok := mysqlNumber(err)
	return ok && (n == 1060 || n == 1061)
}
