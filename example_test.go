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

// waitFinal polls a job until it reaches a final status.
func waitFinal(ctx context.Context, c *wasend.Client, id int64) wasend.Job {
	for {
		j, err := c.Job(ctx, id)
		if err != nil || j.Status.Final() {
			return j
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// This example wires a Client on in-memory back ends. A real host wires
// chromedpdriver, redisqueue and sqlstore the same way.
func Example() {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := wasend.New(wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore(), wasend.WithLogger(quiet), wasend.WithPacing(wasend.NoPacing()))
	if err != nil {
		panic(err)
	}
	defer client.Close()

	bc, err := client.CreateContext(ctx)
	if err != nil {
		panic(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go client.Run(runCtx)

	job, err := client.Send(ctx, bc.ID, "+54 9 11 2233-4455", "Hola!", wasend.Metadata(map[string]any{"order": "A-17"}))
	if err != nil {
		panic(err)
	}
	job = waitFinal(ctx, client, job.ID)
	fmt.Println(job.Status, job.Messages[0].To, job.Messages[0].Status, job.Metadata["order"])
	// Output: completed +5491122334455 sent A-17
}

// Invalid input returns a typed error, and nothing is recorded.
func ExampleClient_Send_validation() {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, _ := wasend.New(wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore(), wasend.WithLogger(quiet), wasend.WithPacing(wasend.NoPacing()))
	defer client.Close()
	bc, _ := client.CreateContext(ctx)

	_, err := client.Send(ctx, bc.ID, "12-34", "hi")
	var ve *wasend.ValidationError
	fmt.Println(errors.Is(err, wasend.ErrInvalidPhone), errors.As(err, &ve) && ve.Field == "to")
	_, err = client.SendBulk(ctx, bc.ID, []wasend.BulkMessage{{To: "+14155550100", Text: "ok"}, {To: "+14155550101"}})
	fmt.Println(errors.Is(err, wasend.ErrEmptyText), errors.As(err, &ve) && ve.Index == 1)
	// Output:
	// true true
	// true true
}

// A bulk job sends its messages in order, with a delay between them.
func ExampleClient_SendBulk() {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, _ := wasend.New(wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore(), wasend.WithLogger(quiet), wasend.WithPacing(wasend.NoPacing()))
	defer client.Close()
	bc, _ := client.CreateContext(ctx)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go client.Run(runCtx)

	job, _ := client.SendBulk(ctx, bc.ID, []wasend.BulkMessage{
		{To: "+14155550100", Text: "Your order shipped"},
		{To: "+14155550101", Text: "Your order shipped"},
	}, wasend.Delay(10*time.Millisecond))
	job = waitFinal(ctx, client, job.ID)
	for _, m := range job.Messages {
		fmt.Println(m.Position, wasend.MaskPhone(m.To), m.Status)
	}
	// Output:
	// 0 +*******0100 sent
	// 1 +*******0101 sent
}
