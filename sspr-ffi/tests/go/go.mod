module sspr-ffi-test

go 1.21
