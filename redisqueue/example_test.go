package redisqueue_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/redisqueue"
)

var (
	_ wasend.Queue         = (*redisqueue.Queue)(nil)
	_ wasend.DepthReporter = (*redisqueue.Queue)(nil)
	_ wasend.Leaser        = (*redisqueue.Queue)(nil)
	_ wasend.Purger        = (*redisqueue.Queue)(nil)
)

func Example() {
	mr, err := miniredis.Run() // a real program would use WithEnv or WithAddr
	if err != nil {
		log.Fatal(err)
	}
	defer mr.Close()

	q, err := redisqueue.New(redisqueue.WithAddr(mr.Addr()))
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()

	ctx := context.Background()
	if err := q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: 42, Kind: wasend.KindSingle}, 0); err != nil {
		log.Fatal(err)
	}
	n, _ := q.Depth(ctx, 42)
	fmt.Println("depth:", n)

	cctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = q.Consume(cctx, 42, wasend.HandlerFunc(func(ctx context.Context, d wasend.Delivery) error {
			fmt.Printf("job %d for context %d\n", d.JobID, d.ContextID)
			stop()
			return nil
		}))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		log.Fatal("no delivery")
	}
	n, _ = q.Depth(ctx, 42)
	fmt.Println("depth:", n)
	// Output:
	// depth: 1
	// job 1 for context 42
	// depth: 0
}
