package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{&wasend.ValidationError{Index: -1, Field: "to", Err: wasend.ErrInvalidPhone}, http.StatusBadRequest},
		{fmt.Errorf("x: %w", wasend.ErrInvalidFilter), http.StatusBadRequest},
		{fmt.Errorf("%w: id 5", wasend.ErrContextNotFound), http.StatusNotFound},
		{wasend.ErrJobNotFound, http.StatusNotFound},
		{fmt.Errorf("%w: job 3", wasend.ErrIdempotencyConflict), http.StatusConflict},
		{wasend.ErrJobFinished, http.StatusConflict},
		{fmt.Errorf("%w (%w)", wasend.ErrContextNotAvailable, wasend.ErrContextClosed), http.StatusConflict},
		{wasend.ErrNotSupported, http.StatusNotImplemented},
		{fmt.Errorf("%w: connection refused", wasend.ErrStore), http.StatusServiceUnavailable},
		{fmt.Errorf("%w: connection refused", wasend.ErrQueue), http.StatusServiceUnavailable},
		{context.DeadlineExceeded, http.StatusServiceUnavailable},
		{fmt.Errorf("something else"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			assert.Equal(t, tt.want, statusOf(tt.err), "status of %v", tt.err)
		})
	}
}

func TestMySQLURL(t *testing.T) {
	cfg, err := mysqlURL("mysql://app:p%40ss:w@db.example:3307/wasend?charset=utf8mb4&loc=Local")
	require.NoError(t, err)
	assert.Equal(t, "app", cfg.User)
	assert.Equal(t, "p@ss:w", cfg.Passwd)
	assert.Equal(t, "tcp", cfg.Net)
	assert.Equal(t, "db.example:3307", cfg.Addr)
	assert.Equal(t, "wasend", cfg.DBName)
	assert.True(t, cfg.ParseTime)
	assert.True(t, cfg.InterpolateParams)
	assert.Equal(t, time.Local, cfg.Loc, "the URL's loc wins")

	cfg, err = mysqlURL("mysql://db.example/wasend")
	require.NoError(t, err)
	assert.Equal(t, "db.example:3306", cfg.Addr)
	assert.Equal(t, time.UTC, cfg.Loc)
}

func TestCursor(t *testing.T) {
	for _, c := range []cursor{{newest: true, id: 42}, {newest: false, id: 1}} {
		got, err := parseCursor(c.String())
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
	for _, bad := range []string{"", "!!", "eDE", "YTA", "YS0x"} { // x1, a0, a-1
		_, err := parseCursor(bad)
		assert.Error(t, err, "cursor %q", bad)
	}
}
