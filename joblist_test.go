package wasend_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

func TestJobsListsWithFiltersAndKeysetPaging(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	a, _ := h.newContext()
	b, _ := h.newContext()
	var onA, all []int64
	for i := range 250 {
		bc := a
		if i%5 == 0 {
			bc = b
		}
		j, err := h.client.Send(bg, bc.ID, "+5491122334455", "listed")
		require.NoError(t, err)
		all = append(all, j.ID)
		if bc.ID == a.ID {
			onA = append(onA, j.ID)
		}
	}
	bulk, err := h.client.SendBulk(bg, a.ID, recipients(3, "bulk"))
	require.NoError(t, err)
	all = append(all, bulk.ID)
	onA = append(onA, bulk.ID)

	// Every job once, oldest first, in pages of 100; a job created during
	// the listing does not shift the pages.
	var got []int64
	f := &wasend.JobFilter{}
	pages := 0
	for f != nil {
		page, err := h.client.Jobs(bg, *f)
		require.NoError(t, err)
		for _, j := range page.Jobs {
			got = append(got, j.ID)
			assert.Nil(t, j.Messages)
		}
		if pages == 0 {
			_, err := h.client.Send(bg, b.ID, "+5491122334455", "created during the listing")
			require.NoError(t, err)
		}
		f, pages = page.Next, pages+1
	}
	require.Equal(t, append(all, all[len(all)-1]+1), got)
	assert.Equal(t, 3, pages)

	// Newest first, one context, in pages of 60.
	got = nil
	f = &wasend.JobFilter{ContextID: a.ID, Newest: true, Limit: 60}
	for f != nil {
		page, err := h.client.Jobs(bg, *f)
		require.NoError(t, err)
		for _, j := range page.Jobs {
			got = append(got, j.ID)
		}
		f = page.Next
	}
	want := make([]int64, len(onA))
	for i, id := range onA {
		want[len(onA)-1-i] = id
	}
	assert.Equal(t, want, got)

	page, err := h.client.Jobs(bg, wasend.JobFilter{Kind: wasend.KindBulk, Statuses: []wasend.JobStatus{wasend.JobPending}})
	require.NoError(t, err)
	require.Len(t, page.Jobs, 1)
	assert.Equal(t, bulk.ID, page.Jobs[0].ID)
	assert.Nil(t, page.Next)

	page, err = h.client.Jobs(bg, wasend.JobFilter{CreatedAfter: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	assert.Empty(t, page.Jobs)

	var ve *wasend.ValidationError
	for name, f := range map[string]wasend.JobFilter{
		"limit over the maximum": {Limit: wasend.MaxJobsPage + 1},
		"negative limit":         {Limit: -1},
		"unknown status":         {Statuses: []wasend.JobStatus{"lost"}},
		"unknown kind":           {Kind: "group"},
		"empty time range":       {CreatedAfter: time.Now(), CreatedBefore: time.Now().Add(-time.Minute)},
		"negative id":            {AfterID: -1},
	} {
		_, err := h.client.Jobs(bg, f)
		assert.ErrorIs(t, err, wasend.ErrInvalidFilter, name)
		assert.ErrorAs(t, err, &ve, name)
	}
}
