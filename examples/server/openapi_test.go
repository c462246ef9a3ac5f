package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenAPIMatchesRoutes checks that the OpenAPI document describes
// exactly the routes the mux registers: the same paths and methods.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openapiJSON, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."), "openapi version %q", doc.OpenAPI)

	var documented []string
	for path, item := range doc.Paths {
		for key := range item {
			switch key {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				documented = append(documented, strings.ToUpper(key)+" "+path)
			}
		}
	}
	var registered []string
	for _, rt := range routes {
		registered = append(registered, rt.pattern())
	}
	slices.Sort(documented)
	slices.Sort(registered)
	assert.Equal(t, registered, documented, "the routes (want) and the OpenAPI document's operations (got)")

	// The open routes are those the document exempts from the bearer token.
	for _, rt := range routes {
		var op struct {
			Security *[]any `json:"security"`
		}
		require.NoError(t, json.Unmarshal(doc.Paths[rt.path][strings.ToLower(rt.method)], &op))
		open := op.Security != nil && len(*op.Security) == 0
		assert.Equal(t, rt.open, open, "%s: open in the route table, and in the document", rt.pattern())
	}
}

// TestServeOpenAPI checks that the document is served as it is embedded.
func TestServeOpenAPI(t *testing.T) {
	a := newAppState(config{token: "secret"}, discardLogger())
	rec := httptest.NewRecorder()
	a.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, string(openapiJSON), rec.Body.String())

	rec = httptest.NewRecorder()
	a.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/stats", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}
