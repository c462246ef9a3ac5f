package otelwasend

import "errors"

// ErrClientRegistered is returned by RegisterClient while another Client
// is registered with the same Observer: two Clients would report the same
// gauges twice.
var ErrClientRegistered = errors.New("otelwasend: a client is registered already")
