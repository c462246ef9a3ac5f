package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
)

// Example opens a SQLite database in a temporary folder, migrates it, and
// records a browser context and a bulk job.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "wasend-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sqlite.Open(filepath.Join(dir, "wasend.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close() // the store never closes it

	store, err := sqlstore.New(db) // the dialect is detected: sqlite
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	bc, err := store.CreateContext(ctx, wasend.BrowserContext{SystemID: "profile-1"})
	if err != nil {
		log.Fatal(err)
	}
	job, err := store.CreateJob(ctx, wasend.Job{
		ContextID:   bc.ID,
		Kind:        wasend.KindBulk,
		MaxAttempts: wasend.DefaultMaxAttempts,
		Metadata:    map[string]any{"campaign": "spring", "batch": 7},
		Messages: []wasend.Message{
			{To: "+34600000001", Text: "¡Hola! 👋"},
			{To: "+34600000002", Text: "Hello again"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("dialect:", store.Dialect())
	fmt.Printf("context %d %q: %s\n", bc.ID, bc.SystemID, bc.Status)
	fmt.Printf("job %d: %s %s, %d messages\n", job.ID, job.Kind, job.Status, len(job.Messages))
	for _, m := range job.Messages {
		fmt.Printf("  #%d %s %s\n", m.Position, m.Status, m.Text)
	}
	fmt.Printf("metadata batch: %v (%T)\n", job.Metadata["batch"], job.Metadata["batch"])
	// Output:
	// dialect: sqlite
	// context 1 "profile-1": disconnected
	// job 1: bulk pending, 2 messages
	//   #0 pending ¡Hola! 👋
	//   #1 pending Hello again
	// metadata batch: 7 (float64)
}
