package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	msqlite "modernc.org/sqlite"

	"github.com/wasend/wasend/sqlstore/sqlite"
)

// faults are failures that a faultConnector injects into the real
// database's connections.
type faults struct {
	// commits is how many of the next transactions' commits fail: the
	// transaction is rolled back, and Commit returns errInjected.
	commits atomic.Int32
	// poison: a statement with this string among its arguments fails with
	// errInjected, before it reaches the database.
	poison atomic.Pointer[string]
	// gates: a statement with one of these strings among its arguments
	// waits, before it reaches the database, until its gate opens.
	gates sync.Map // string → *gate
}

// gate holds the statements that name it until it opens.
type gate struct {
	reached chan struct{} // closed when a statement first waits
	once    sync.Once
	open    chan struct{}
}

// gate returns the gate named s, made on first use.
func (f *faults) gate(s string) *gate {
	g, _ := f.gates.LoadOrStore(s, &gate{reached: make(chan struct{}), open: make(chan struct{})})
	return g.(*gate)
}

// wait holds a statement whose arguments name a gate until it opens.
func (f *faults) wait(ctx context.Context, args []driver.NamedValue) error {
	for _, a := range args {
		s, ok := a.Value.(string)
		if !ok {
			continue
		}
		if g, ok := f.gates.Load(s); ok {
			g := g.(*gate)
			g.once.Do(func() { close(g.reached) })
			select {
			case <-g.open:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

var errInjected = errors.New("injected failure")

// openFaulty opens a fresh database of b's dialect through a connector
// that injects f's failures.
func openFaulty(t testing.TB, b backend, f *faults) *sql.DB {
	t.Helper()
	var c driver.Connector
	switch b.dialect {
	case "postgres":
		c = postgresConnector(t, "")
	case "mysql":
		c = mysqlConnector(t, "")
	default:
		var err error
		c, err = msqlite.NewConnector(sqlite.DSN(filepath.Join(t.TempDir(), "wasend.db")))
		require.NoError(t, err)
	}
	db := sql.OpenDB(faultConnector{c, f})
	if b.dialect == "sqlite" {
		db.SetMaxOpenConns(1) // as sqlite.Open
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

type faultConnector struct {
	driver.Connector
	f *faults
}

func (c faultConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &faultConn{conn, c.f}, nil
}

// faultConn forwards to the driver's connection what database/sql asks of
// it, and injects the failures.
type faultConn struct {
	driver.Conn
	f *faults
}

func (c *faultConn) poisoned(args []driver.NamedValue) bool {
	p := c.f.poison.Load()
	if p == nil {
		return false
	}
	for _, a := range args {
		if s, ok := a.Value.(string); ok && s == *p {
			return true
		}
	}
	return false
}

func (c *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return faultTx{tx, c.f}, nil
}

// inject returns the failure to inject into a statement, or nil.
func (c *faultConn) inject(ctx context.Context, args []driver.NamedValue) error {
	if c.poisoned(args) {
		return errInjected
	}
	return c.f.wait(ctx, args)
}

func (c *faultConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.inject(ctx, args); err != nil {
		return nil, err
	}
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *faultConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.inject(ctx, args); err != nil {
		return nil, err
	}
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *faultConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *faultConn) CheckNamedValue(v *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

func (c *faultConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *faultConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *faultConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type faultTx struct {
	driver.Tx
	f *faults
}

func (t faultTx) Commit() error {
	for {
		n := t.f.commits.Load()
		if n <= 0 {
			return t.Tx.Commit()
		}
		if t.f.commits.CompareAndSwap(n, n-1) {
			_ = t.Tx.Rollback()
			return errInjected
		}
	}
}
