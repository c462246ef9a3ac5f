package wasend_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// A contact who answers STOP is suppressed: the Client refuses to write
// to them again, until the host removes them from the list.
func ExampleClient_Suppress() {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool, store := wasendtest.NewPool(), wasendtest.NewStore()
	client, _ := wasend.New(pool, wasendtest.NewQueue(), store, wasend.WithLogger(quiet))
	defer client.Close()
	bc, _ := client.CreateContext(ctx)

	// The host's own list.
	added, _ := client.Suppress(ctx, "+44 7700 900111", "asked by phone")
	fmt.Println("added:", added)

	// A contact answers "Stop." on WhatsApp (here, the scripted page).
	pool.Session(bc.SystemID).Receive("+447700900222", "Stop.", "")
	var list []wasend.Suppression
	for len(list) < 2 {
		time.Sleep(5 * time.Millisecond)
		list, _ = client.Suppressions(ctx, wasend.SuppressionFilter{})
	}
	for _, s := range list {
		fmt.Println(s.Phone, s.Reason)
	}

	_, err := client.Send(ctx, bc.ID, "+447700900222", "New offers!")
	fmt.Println("refused:", errors.Is(err, wasend.ErrSuppressed))
	// Output:
	// added: true
	// +447700900111 asked by phone
	// +447700900222 opt_out
	// refused: true
}

// CheckNumber asks WhatsApp, through a session, whether a number has an
// account, and gives the number it knows the account by.
func ExampleClient_CheckNumber() {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := wasendtest.NewPool(wasendtest.WithNotOnWhatsApp("+447700900999"))
	// WhatsApp knows this Brazilian account by its old eight-digit form.
	pool.SetCanonical("+5511987654321", "+551187654321")
	client, _ := wasend.New(pool, wasendtest.NewQueue(), wasendtest.NewStore(), wasend.WithLogger(quiet))
	defer client.Close()
	bc, _ := client.CreateContext(ctx)

	for _, n := range []string{"+447700900123", "+447700900999", "+55 11 98765-4321", "+447700900123"} {
		info, err := client.CheckNumber(ctx, bc.ID, n)
		if err != nil {
			panic(err)
		}
		fmt.Println(info.Phone, info.OnWhatsApp, info.Canonical, info.Cached)
	}
	// Output:
	// +447700900123 true  false
	// +447700900999 false  false
	// +5511987654321 true +551187654321 false
	// +447700900123 true  true
}
