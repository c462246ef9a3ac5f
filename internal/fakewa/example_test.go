package fakewa_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/wasend/wasend/internal/fakewa"
)

// A test starts the fake, points Chromium at it, plays the phone with the
// hooks and checks the oracle.
func Example() {
	s := fakewa.New(
		fakewa.WithBootDelay(50*time.Millisecond),
		fakewa.WithLoadingDelay(50*time.Millisecond),
	)
	base, err := s.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// The driver navigates to base+"/send?phone=15551234567&text=hi", reads
	// canvas.closest('[data-ref]').dataset.ref and the test scans it:
	//
	//	err := s.Scan(ctx, ref, "15550001111")
	//
	// After the driver clicked Send, the oracle holds the message:
	//
	//	msgs := s.Received("15550001111", "15551234567")
	fmt.Println(strings.HasPrefix(base, "http://127.0.0.1:"))
	fmt.Println(len(s.AllReceived()))
	// Output:
	// true
	// 0
}

// Another process drives the hooks over HTTP with the server's token.
func ExampleHookClient() {
	s := fakewa.New()
	base, err := s.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	h := fakewa.NewHookClient(base, s.HookToken(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = h.ScanAny(ctx, "15550001111")
	fmt.Println(errors.Is(err, fakewa.ErrNoPendingQR))
	// Output: true
}
