// Command merkle-reference answers for github.com/transparency-dev/merkle, the reference
// implementation of RFC 6962/9162 Merkle trees, so Schakel's tree can be held against it
// (tests/audit/test_merkle_reference.py builds and runs it).
//
// It reads one JSON request on stdin and writes one JSON answer on stdout, hashes in hex:
//
//	{"leaves": [...], "verify_inclusion": [...], "verify_consistency": [...]}
//
// The answer holds the root of every tree size 0..len(leaves), the inclusion proof of every
// leaf in every size, the consistency proof between every two sizes, the reference's verdict
// on each proof given to verify, and the module's own test data (testonly).
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

type inclusionCheck struct {
	Index    uint64   `json:"index"`
	Size     uint64   `json:"size"`
	LeafHash string   `json:"leaf_hash"`
	Proof    []string `json:"proof"`
	Root     string   `json:"root"`
}

type consistencyCheck struct {
	Old     uint64   `json:"old"`
	New     uint64   `json:"new"`
	OldRoot string   `json:"old_root"`
	NewRoot string   `json:"new_root"`
	Proof   []string `json:"proof"`
}

type request struct {
	Leaves            []string           `json:"leaves"`
	VerifyInclusion   []inclusionCheck   `json:"verify_inclusion"`
	VerifyConsistency []consistencyCheck `json:"verify_consistency"`
}

type moduleData struct {
	LeafInputs []string `json:"leaf_inputs"`
	RootHashes []string `json:"root_hashes"`
	EmptyRoot  string   `json:"empty_root"`
}

type answer struct {
	Roots               []string     `json:"roots"`
	Inclusion           [][][]string `json:"inclusion"`   // [size][index] -> proof
	Consistency         [][][]string `json:"consistency"` // [old][new] -> proof, new >= old
	InclusionVerdicts   []bool       `json:"inclusion_verdicts"`
	ConsistencyVerdicts []bool       `json:"consistency_verdicts"`
	Module              moduleData   `json:"module"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "merkle-reference:", err)
		os.Exit(1)
	}
}

func run() error {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		return err
	}
	leaves := make([][]byte, len(req.Leaves))
	for i, leaf := range req.Leaves {
		data, err := hex.DecodeString(leaf)
		if err != nil {
			return err
		}
		leaves[i] = data
	}
	tree := testonly.New(rfc6962.DefaultHasher)
	tree.AppendData(leaves...)
	n := uint64(len(leaves))
	ans := answer{Roots: make([]string, n+1), Inclusion: make([][][]string, n+1), Consistency: make([][][]string, n+1)}
	for size := uint64(0); size <= n; size++ {
		ans.Roots[size] = hex.EncodeToString(tree.HashAt(size))
		ans.Inclusion[size] = make([][]string, size)
		for index := uint64(0); index < size; index++ {
			p, err := tree.InclusionProof(index, size)
			if err != nil {
				return err
			}
			ans.Inclusion[size][index] = hexes(p)
		}
		ans.Consistency[size] = make([][]string, n+1)
		for newer := size; newer <= n; newer++ {
			p, err := tree.ConsistencyProof(size, newer)
			if err != nil {
				return err
			}
			ans.Consistency[size][newer] = hexes(p)
		}
	}
	for _, c := range req.VerifyInclusion {
		ans.InclusionVerdicts = append(ans.InclusionVerdicts, proof.VerifyInclusion(
			rfc6962.DefaultHasher, c.Index, c.Size, unhex(c.LeafHash), unhexes(c.Proof), unhex(c.Root)) == nil)
	}
	for _, c := range req.VerifyConsistency {
		ans.ConsistencyVerdicts = append(ans.ConsistencyVerdicts, proof.VerifyConsistency(
			rfc6962.DefaultHasher, c.Old, c.New, unhexes(c.Proof), unhex(c.OldRoot), unhex(c.NewRoot)) == nil)
	}
	ans.Module = moduleData{
		LeafInputs: hexes(testonly.LeafInputs()),
		RootHashes: hexes(testonly.RootHashes()),
		EmptyRoot:  hex.EncodeToString(testonly.EmptyRootHash()),
	}
	return json.NewEncoder(os.Stdout).Encode(ans)
}

func hexes(values [][]byte) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = hex.EncodeToString(v)
	}
	return out
}

func unhex(text string) []byte {
	data, err := hex.DecodeString(text)
	if err != nil {
		return []byte("not hex")
	}
	return data
}

func unhexes(texts []string) [][]byte {
	out := make([][]byte, len(texts))
	for i, t := range texts {
		out[i] = unhex(t)
	}
	return out
}
