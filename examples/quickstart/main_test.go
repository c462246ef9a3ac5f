package main

import (
	"context"
	"testing"
	"time"

	"github.com/wasend/wasend/internal/testenv"
)

// TestQuickstart runs the quickstart as `make demo` does: it must succeed,
// which means every message arrived exactly once, intact.
func TestQuickstart(t *testing.T) {
	testenv.Chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	if err := run(ctx, false, false); err != nil {
		t.Fatal(err)
	}
}
