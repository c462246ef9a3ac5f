package chromedpdriver_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/chromedpdriver"
)

// A pool launches a session; its QR codes arrive as events.
func Example() {
	pool, err := chromedpdriver.New(chromedpdriver.WithProfileRoot("profiles"))
	if errors.Is(err, chromedpdriver.ErrNoBrowser) {
		log.Fatal(err) // it says how to install Chromium
	}
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	ctx := context.Background()
	ws, err := pool.Launch(ctx, wasend.LaunchRequest{OnEvent: func(ev wasend.SessionEvent) {
		switch ev.Type {
		case wasend.EventQR:
			fmt.Println(chromedpdriver.QRTerminal(ev.QR))
		case wasend.EventStatus:
			fmt.Println("status:", ev.Status, ev.Err)
		}
	}})
	if err != nil {
		log.Fatal(err)
	}
	s := ws.(*chromedpdriver.Session)
	fmt.Println("system id:", s.SystemID()) // store it to resume the login later
	if err := s.WaitReady(ctx); err != nil {
		log.Fatal(err)
	}
	r, err := s.SendText(ctx, "+5491122334455", "Hola\nfrom wasend")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sent:", r.MessageID)
}

// The pool is the browser pool of a wasend.Client.
func ExampleNew_client() {
	env, err := wasend.LoadEnv()
	if err != nil {
		log.Fatal(err)
	}
	pool, err := chromedpdriver.New(
		chromedpdriver.WithEnv(env),
		chromedpdriver.WithMode(chromedpdriver.Persistent),
		chromedpdriver.WithProfileRoot("/var/lib/wasend/profiles"),
		chromedpdriver.WithDebugDir("/var/lib/wasend/debug"),
		chromedpdriver.WithTakeoverOnConflict(true),
		chromedpdriver.WithWatchdog(10*time.Second, 20*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	var queue wasend.Queue // redisqueue.New(...)
	var store wasend.Store // sqlstore.New(...)
	client, err := wasend.New(pool, queue, store, wasend.WithEventHandler(func(ev wasend.SessionEvent) {
		if ev.Type == wasend.EventQR {
			png, _ := chromedpdriver.QRPNG(ev.QR)
			_ = os.WriteFile(fmt.Sprintf("qr-%d.png", ev.ContextID), png, 0o600)
		}
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
}

// A host can replace the selector set without a new release.
func ExampleParseSelectors() {
	set, err := chromedpdriver.ParseSelectors([]byte(`{
		"name": "whatsapp-web",
		"version": "2026.2",
		"send_btn": ["button[aria-label='Send message']", "button[aria-label='Send']"],
		"use_here": ["[role='dialog'] button >> text=/use here/i"]
	}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(set.ID())
	fmt.Println(set.SendButton[0])
	fmt.Println(strings.Join(set.LoggedIn[:2], " | ")) // keys left out keep their default
	// Output:
	// whatsapp-web@2026.2
	// button[aria-label='Send message']
	// #pane-side | div[aria-label='Chat list']
}

// A browser context logs in by phone number instead of a QR code. The
// Client asks the context's session, which implements wasend.PhonePairer;
// the code also arrives as an event.
func Example_pairingCode() {
	pool, err := chromedpdriver.New(chromedpdriver.WithProfileRoot("profiles"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	var queue wasend.Queue // redisqueue.New(...)
	var store wasend.Store // sqlstore.New(...)
	client, err := wasend.New(pool, queue, store, wasend.WithEventHandler(func(ev wasend.SessionEvent) {
		switch ev.Type {
		case wasend.EventPairingCode:
			fmt.Printf("context %d: pairing code %s\n", ev.ContextID, ev.Code)
		case wasend.EventStatus:
			fmt.Printf("context %d: %s\n", ev.ContextID, ev.Status)
		}
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx := context.Background()
	bc, err := client.CreateContext(ctx) // its session waits for a login
	if err != nil {
		log.Fatal(err)
	}
	code, err := client.RequestPairingCode(ctx, bc.ID, "+447700900123")
	if errors.Is(err, wasend.ErrNotSupported) {
		log.Fatal("this pool's sessions log in by QR code only")
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("type this code on the phone:", code)
}

// QRTerminal draws a QR payload for a terminal.
func ExampleQRTerminal() {
	art := chromedpdriver.QRTerminal("2@abc,def,ghi,jkl")
	fmt.Println(len(strings.Split(strings.TrimSpace(art), "\n")) > 10)
	// Output: true
}
