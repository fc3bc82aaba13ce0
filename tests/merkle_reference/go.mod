module schakel.example/merkle-reference

go 1.22

require github.com/transparency-dev/merkle v0.0.2
