module example.com/ordercache

go 1.22
