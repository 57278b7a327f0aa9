module roarbench/goread

go 1.19
