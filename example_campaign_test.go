package wasend_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// A campaign sends one list over a pool of numbers: each recipient gets
// one of them, shared by the budget each number has left today.
func ExampleClient_SendCampaign() {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, _ := wasend.New(wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore(), wasend.WithLogger(quiet),
		wasend.WithPacing(wasend.Pacing{NewContactsPerDay: 100}))
	defer client.Close()
	a, _ := client.CreateContext(ctx)
	// b is a younger number: a third of a's budget for new contacts.
	b, _ := client.CreateContext(ctx, wasend.ContextPacing(&wasend.Pacing{NewContactsPerDay: 50}))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go client.Run(runCtx)

	var list []wasend.BulkMessage
	for i := range 6 {
		list = append(list, wasend.BulkMessage{To: fmt.Sprintf("+1415555010%d", i), Text: "Spring sale: 20% off"})
	}
	camp, err := client.SendCampaign(ctx, []int64{a.ID, b.ID}, list, wasend.AllowMoves(), wasend.Delay(0))
	if err != nil {
		panic(err)
	}
	for camp.Status() != wasend.JobCompleted {
		time.Sleep(5 * time.Millisecond)
		camp, _ = client.Campaign(ctx, camp.ID)
	}
	for _, j := range camp.Jobs {
		fmt.Println("context", j.ContextID, "sent", len(j.Messages))
	}
	fmt.Println(camp.Counts()[wasend.MessageSent], "sent in all")
	// Output:
	// context 1 sent 4
	// context 2 sent 2
	// 6 sent in all
}
