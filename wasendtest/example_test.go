package wasendtest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// notifyShipped is host code: it tells a customer that their order
// shipped, once per order however often it is called.
func notifyShipped(ctx context.Context, s wasend.Sender, contextID int64, phone, order string) (int64, error) {
	j, err := s.Send(ctx, contextID, phone, "Your order "+order+" has shipped.",
		wasend.IdempotencyKey("shipped:"+order))
	if err != nil {
		return 0, fmt.Errorf("notify %s: %w", order, err)
	}
	return j.ID, nil
}

// exampleT stands in for the *testing.T that a test passes to NewClient:
// an example has none. It runs the cleanups when the example ends.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                           {}
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Errorf(format string, args ...any) { fmt.Printf("error: "+format+"\n", args...) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) Logf(format string, args ...any)   {}
func (t *exampleT) Failed() bool                      { return false }
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// A host tests its own code on a real Client that runs on the kit. In a
// test, pass t: wasendtest.NewClient(t).
func Example() {
	t := &exampleT{}
	defer t.done()
	ctx := context.Background()

	kit := wasendtest.NewClient(t) // runs until the test ends
	bc := kit.NewContext()         // a logged-in browser context

	id, err := notifyShipped(ctx, kit, bc.ID, "+44 7700 900123", "A-17")
	if err != nil {
		panic(err)
	}
	_, _ = notifyShipped(ctx, kit, bc.ID, "+447700900123", "A-17") // a retry by the host

	job := kit.WaitJob(id)
	fmt.Println("job:", job.Status)
	for _, m := range kit.Sent() {
		fmt.Printf("reached %s: %q\n", m.To, m.Text)
	}
	// Output:
	// job: completed
	// reached +447700900123: "Your order A-17 has shipped."
}

// A scripted session can fail in the ways a real one does. This one clicks
// send, so the message leaves, and then fails as a tab that crashed would:
// the Client looks in the chat before it tries again, finds the message,
// and does not send it twice.
func Example_clickThenFail() {
	t := &exampleT{}
	defer t.done()
	ctx := context.Background()

	kit := wasendtest.NewClient(t)
	bc := kit.NewContext()
	kit.Session(bc.ID).Script(wasendtest.Action{Deliver: true, Err: errors.New("tab crashed")})

	id, err := notifyShipped(ctx, kit, bc.ID, "+447700900123", "B-2")
	if err != nil {
		panic(err)
	}
	job := kit.WaitJob(id)
	fmt.Println("job:", job.Status, "message:", job.Messages[0].Status)
	fmt.Println("arrived:", kit.Count("+447700900123", "Your order B-2 has shipped."), "time(s)")
	fmt.Println("send attempts:", kit.Session(bc.ID).Calls())
	// Output:
	// job: completed message: sent
	// arrived: 1 time(s)
	// send attempts: 1
}

// A host whose code depends on the wasend.Sender interface can use a
// FakeSender: it records the calls and returns the errors it is told to.
func ExampleFakeSender() {
	ctx := context.Background()
	fake := wasendtest.NewFakeSender()

	_, _ = notifyShipped(ctx, fake, 7, "+447700900123", "C-3")
	c := fake.CallsOf("Send")[0]
	fmt.Printf("sent %q to %s through context %d\n", c.Text, c.To, c.ContextID)

	fake.Fail("Send", wasend.ErrContextNotAvailable)
	_, err := notifyShipped(ctx, fake, 7, "+447700900123", "C-4")
	fmt.Println(err)
	fmt.Println("retryable:", wasend.Retryable(err))
	// Output:
	// sent "Your order C-3 has shipped." to +447700900123 through context 7
	// notify C-4: wasend: browser context not available
	// retryable: true
}

// Sessions can pair by phone number when the pool is built WithPairing; the
// test plays the phone with ConfirmPairingCode.
func ExampleWithPairing() {
	t := &exampleT{}
	defer t.done()
	ctx := context.Background()

	kit := wasendtest.NewClient(t, wasendtest.WithPoolOptions(wasendtest.WithAutoLogin(false), wasendtest.WithPairing(true)))
	bc, err := kit.CreateContext(ctx)
	if err != nil {
		panic(err)
	}
	code, err := kit.RequestPairingCode(ctx, bc.ID, "+447700900123")
	if err != nil {
		panic(err)
	}
	fmt.Println("code:", code)
	if err := kit.Session(bc.ID).ConfirmPairingCode(code); err != nil {
		panic(err)
	}
	fmt.Println("context:", kit.WaitContext(bc.ID, wasend.ContextAvailable).Status)
	// Output:
	// code: PAIR0001
	// context: available
}
