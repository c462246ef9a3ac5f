package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wasend/wasend"
)

// dialect holds what differs between the SQL dialects.
type dialect struct {
	name Dialect
	// numbered placeholders ($1) rather than ?.
	numbered bool
	// returning: INSERT ... RETURNING gives the new ids.
	returning bool
	// changedRows: an UPDATE that changes no value reports 0 rows affected
	// (MySQL and MariaDB without CLIENT_FOUND_ROWS).
	changedRows bool
	// wallClock: times are sent as UTC text, and a time.Time read back holds
	// that UTC wall clock in whatever location the driver chose.
	wallClock bool
}

var dialects = map[Dialect]*dialect{
	Postgres: {name: Postgres, numbered: true, returning: true},
	MySQL:    {name: MySQL, changedRows: true, wallClock: true},
	SQLite:   {name: SQLite, returning: true, wallClock: true},
}

// byID returns the table expression of a statement that selects one row
// by id. MySQL may otherwise choose a secondary index that also covers the
// condition on the status, and lock that index's neighbouring entries:
// rows of other contexts and jobs.
func (d *dialect) byID(table string) string {
	if d.name == MySQL {
		return table + " FORCE INDEX (PRIMARY)"
	}
	return table
}

// filterOnly returns a column for a condition that must not pick the index:
// in a statement that finds its row by primary key, PostgreSQL's generic
// plan (pgx prepares every statement, and PostgreSQL switches to a generic
// plan after five runs) can pick the status index instead when it was
// planned while the table was nearly empty, and then scan every job of that
// status for each update: a fifth of the throughput, seen in the pipeline
// benchmark. An expression on the column is not indexable.
func (d *dialect) filterOnly(col string) string {
	if d.name == Postgres {
		return col + " + 0"
	}
	return col
}

// timeLayout is how times are sent to MySQL and kept in SQLite: UTC, fixed
// width, so that text order is time order.
const timeLayout = "2006-01-02 15:04:05.000000"

// timeArg converts a time to an argument for a NOT NULL time column.
func (d *dialect) timeArg(t time.Time) any {
	t = norm(t)
	if d.name == Postgres {
		return t
	}
	return t.Format(timeLayout)
}

// nullTimeArg converts a time to an argument for a nullable time column:
// the zero time is NULL.
func (d *dialect) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.timeArg(t)
}

// nullString is NULL for the empty string.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// query builds a statement and its arguments with the dialect's
// placeholders.
type query struct {
	d    *dialect
	sb   strings.Builder
	args []any
}

func (d *dialect) query() *query { return &query{d: d} }

// w writes SQL text.
func (q *query) w(s ...string) *query {
	for _, x := range s {
		q.sb.WriteString(x)
	}
	return q
}

// arg adds an argument and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	if q.d.numbered {
		return "$" + strconv.Itoa(len(q.args))
	}
	return "?"
}

// a writes the placeholder of a new argument.
func (q *query) a(v any) *query {
	q.sb.WriteString(q.arg(v))
	return q
}

// shared returns a function giving the placeholder of one argument each time
// it is called: the same numbered placeholder, or a new ? with the argument
// repeated.
func (q *query) shared(v any) func() string {
	if q.d.numbered {
		p := q.arg(v)
		return func() string { return p }
	}
	return func() string { return q.arg(v) }
}

// in writes "col IN (?, ?, ...)".
func (q *query) in(col string, vs []any) *query {
	q.w(col, " IN (")
	for i, v := range vs {
		if i > 0 {
			q.w(", ")
		}
		q.a(v)
	}
	return q.w(")")
}

func (q *query) String() string { return q.sb.String() }

// Status ids: the rows of the status tables, fixed by the first migration.

var (
	contextStatuses = wasend.ContextStatuses()
	jobStatuses     = wasend.JobStatuses()
)

func contextStatusID(s wasend.ContextStatus) (int64, bool) {
	for i, v := range contextStatuses {
		if v == s {
			return int64(i + 1), true
		}
	}
	return 0, false
}

func contextStatusOf(id int64) (wasend.ContextStatus, error) {
	if id < 1 || id > int64(len(contextStatuses)) {
		return "", fmt.Errorf("unknown browser_context_status_id %d", id)
	}
	return contextStatuses[id-1], nil
}

func jobStatusID(s wasend.JobStatus) (int64, bool) {
	for i, v := range jobStatuses {
		if v == s {
			return int64(i + 1), true
		}
	}
	return 0, false
}

func jobStatusOf(id int64) (wasend.JobStatus, error) {
	if id < 1 || id > int64(len(jobStatuses)) {
		return "", fmt.Errorf("unknown send_messages_jobs_status_id %d", id)
	}
	return jobStatuses[id-1], nil
}

// timeDest scans a time column, NULL or not, whatever form the driver gives
// it in: time.Time, or text ([]byte, string) such as MySQL's without
// parseTime and SQLite's.
type timeDest struct {
	t    *time.Time
	wall bool
}

func (d *dialect) scanTime(t *time.Time) timeDest { return timeDest{t: t, wall: d.wallClock} }

// Scan implements sql.Scanner.
func (s timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.t = time.Time{}
		return nil
	case time.Time:
		if s.wall {
			// The column holds a UTC wall clock; the driver read it in a
			// location of its choosing (MySQL's loc, SQLite's _timezone).
			v = time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
		}
		*s.t = norm(v)
		return nil
	case []byte:
		return s.parse(string(v))
	case string:
		return s.parse(v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
}

var textLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999-07",
	"2006-01-02",
}

func (s timeDest) parse(v string) error {
	for _, l := range textLayouts {
		if t, err := time.ParseInLocation(l, v, time.UTC); err == nil {
			*s.t = norm(t)
			return nil
		}
	}
	return fmt.Errorf("sqlstore: cannot parse time %q", v)
}
