module mapscope.bench/manystacks

go 1.22
