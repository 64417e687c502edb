-- Specs for modemftp.listing: LIST, NLST and MLSD payloads into tables.
-- The samples are written by hand after what each server prints.
local listing = require "modemftp.listing"
local errors = require "modemftp.errors"
local helper = require "spec.helper_pure"

local function crlf(lines) return table.concat(lines, "\r\n") .. "\r\n" end

local function by_name(entries)
	local t = {}
	for _, e in ipairs(entries) do
		if e.name then t[e.name] = e end
	end
	return t
end

describe("modemftp.listing", function()
	helper.module_hygiene(_ENV, "modemftp.listing", "lua/modemftp/listing.lua", function(m)
		m.list("-rw-r--r--   1 u g 1 Jul 08 11:00 a\r\n07-08-14  11:00AM  <DIR>  D\r\nx")
		m.mlsd("type=file;size=1;modify=20140708110039; a\r\n")
		m.nlst("a\r\n")
	end)

	describe("list, Unix style", function()
		it("parses vsftpd (numeric ids, zero-padded day, year with two spaces)", function()
			local t = listing.list(crlf {
				"drwxr-xr-x    2 1000     1000         4096 Jul 08 11:00 TEST",
				"-rw-r--r--    1 1000     1000         1000 Jul 08 11:00 test.txt",
				"-rw-r--r--    1 1000     1000     10485760 Mar 14  2013 big file.bin",
				"lrwxrwxrwx    1 1000     1000            8 Jul 08 11:00 latest -> test.txt",
			})
			assert.equal(4, #t)
			assert.same({
				name = "TEST", type = "dir", size = 4096, perm = "drwxr-xr-x", links = 2,
				owner = "1000", group = "1000", mtime_text = "Jul 08 11:00",
				mtime = { month = 7, day = 8, hour = 11, min = 0 },
				raw = "drwxr-xr-x    2 1000     1000         4096 Jul 08 11:00 TEST",
			}, t[1])
			assert.equal("test.txt", t[2].name)
			assert.equal("file", t[2].type)
			assert.equal(1000, t[2].size)
			assert.equal("big file.bin", t[3].name)
			assert.equal(10485760, t[3].size)
			assert.equal("Mar 14 2013", t[3].mtime_text)
			assert.same({ month = 3, day = 14, year = 2013 }, t[3].mtime)
			assert.equal("link", t[4].type)
			assert.equal("latest", t[4].name)
			assert.equal("test.txt", t[4].target)
			assert.equal(8, t[4].size)
		end)

		it("parses ProFTPD (names, space-padded day, total line)", function()
			local t = listing.list(crlf {
				"total 16",
				"drwxr-xr-x   2 ftp      ftp          4096 Jul  8 11:00 TEST",
				"-rw-r--r--   1 ftp      ftp          1000 Jul  8 11:00 test.txt",
				"-rw-r--r--   1 ftp      ftp             0 Dec 31  2013 empty file",
				"lrwxrwxrwx   1 ftp      ftp             8 Jul  8 11:00 latest -> test.txt",
			})
			assert.equal(4, #t)
			local n = by_name(t)
			assert.equal("dir", n.TEST.type)
			assert.equal("ftp", n.TEST.owner)
			assert.equal("ftp", n.TEST.group)
			assert.equal("Jul 8 11:00", n["test.txt"].mtime_text)
			assert.equal(0, n["empty file"].size)
			assert.equal(2013, n["empty file"].mtime.year)
			assert.equal("test.txt", n.latest.target)
		end)

		it("parses pure-ftpd (wide columns, . and .. kept)", function()
			local t = listing.list(crlf {
				"drwxr-xr-x    2 1000       1000             4096 Jul  8 11:00 .",
				"drwxr-xr-x    5 1000       1000             4096 Jul  1 09:12 ..",
				"-rw-r--r--    1 1000       1000             1000 Jul  8 11:00 test.txt",
				"-rw-r--r--    1 1000       1000       4294967296 Jul  8 11:00 huge.img",
			})
			assert.equal(4, #t)
			assert.equal(".", t[1].name)
			assert.equal("..", t[2].name)
			assert.equal("dir", t[2].type)
			assert.equal(5, t[2].links)
			assert.same({ month = 7, day = 1, hour = 9, min = 12 }, t[2].mtime)
			assert.equal(4294967296, t[4].size)
		end)

		it("parses pyftpdlib", function()
			local t = listing.list(crlf {
				"-rw-r--r--   1 user     group        1000 Jul 08 11:00 a.txt",
				"drwxr-xr-x   2 user     group        4096 Jul 08 11:00 docs",
				"lrwxrwxrwx   1 user     group           5 Jul 08 11:00 link -> a.txt",
				"-rw-r--r--   1 user     group         512 Jan 02  2012 old.log",
			})
			assert.same({
				name = "a.txt", type = "file", size = 1000, perm = "-rw-r--r--", links = 1,
				owner = "user", group = "group", mtime_text = "Jul 08 11:00",
				mtime = { month = 7, day = 8, hour = 11, min = 0 },
				raw = "-rw-r--r--   1 user     group        1000 Jul 08 11:00 a.txt",
			}, t[1])
			assert.equal("docs", t[2].name)
			assert.equal("dir", t[2].type)
			assert.equal("link", t[3].type)
			assert.equal("a.txt", t[3].target)
			assert.same({ month = 1, day = 2, year = 2012 }, t[4].mtime)
		end)

		it("parses device files, sockets and pipes", function()
			local t = listing.list(crlf {
				"crw-rw-rw-   1 root     root       1,   3 Jul 08 11:00 null",
				"brw-rw----   1 root     disk       8,0 Jul 08 11:00 sda",
				"srwxrwxrwx   1 root     root          0 Jul 08 11:00 sock",
				"prw-r--r--   1 root     root          0 Jul 08 11:00 fifo",
			})
			assert.equal("other", t[1].type)
			assert.equal("null", t[1].name)
			assert.is_nil(t[1].size)
			assert.equal(1, t[1].major)
			assert.equal(3, t[1].minor)
			assert.equal("root", t[1].owner)
			assert.equal("root", t[1].group)
			assert.equal(8, t[2].major)
			assert.equal(0, t[2].minor)
			assert.equal("disk", t[2].group)
			assert.equal("sda", t[2].name)
			assert.equal("other", t[3].type)
			assert.equal(0, t[3].size)
			assert.equal("fifo", t[4].name)
		end)

		it("keeps spaces in names, leading ones too (one space after the time)", function()
			local t = listing.list(crlf {
				"-rw-r--r--   1 u g 5 Jul 08 11:00  lead",
				"-rw-r--r--   1 u g 5 Jul 08 11:00 trail  ",
				"-rw-r--r--   1 u g 5 Jul 08 11:00 a  b   c",
				"-rw-r--r--   1 u g 5 Jul 08 11:00 Jul 08 2014 notes",
				"-rw-r--r--   1 u g 5 Jul 08 11:00 r\xC3\xA9sum\xC3\xA9.pdf",
			})
			assert.equal(" lead", t[1].name)
			assert.equal("trail  ", t[2].name)
			assert.equal("a  b   c", t[3].name)
			assert.equal("Jul 08 2014 notes", t[4].name)
			assert.equal("r\xC3\xA9sum\xC3\xA9.pdf", t[5].name)
		end)

		it("splits a symlink at the first ' -> '", function()
			local t = listing.list("lrwxrwxrwx 1 u g 9 Jul 08 11:00 my link -> a -> b\n")
			assert.equal("my link", t[1].name)
			assert.equal("a -> b", t[1].target)
			-- Only links are split.
			local f = listing.list("-rw-r--r-- 1 u g 9 Jul 08 11:00 x -> y\n")
			assert.equal("x -> y", f[1].name)
			assert.is_nil(f[1].target)
		end)

		it("handles ACL/SELinux markers, setuid, sticky, seconds and upper-case months", function()
			local t = listing.list(crlf {
				"-rw-r--r--+  1 u g 5 Jul 08 11:00 acl",
				"-rw-r--r--.  1 u g 5 Jul 08 11:00 selinux",
				"-rwsr-xr-x   1 u g 5 Jul 08 11:00 suid",
				"drwxrwxrwt   9 u g 5 JUL 08 11:00 tmp",
				"-rw-r--r--   1 u g 5 Jul 08 11:00:39 secs",
			})
			assert.equal("-rw-r--r--", t[1].perm)
			assert.equal("acl", t[1].name)
			assert.equal("selinux", t[2].name)
			assert.equal("-rwsr-xr-x", t[3].perm)
			assert.equal("dir", t[4].type)
			assert.equal(7, t[4].mtime.month)
			assert.same({ month = 7, day = 8, hour = 11, min = 0, sec = 39 }, t[5].mtime)
		end)

		it("copes with a missing group or link count", function()
			local t = listing.list(crlf {
				"-rw-r--r--   1 owner        1000 Jul 08 11:00 nogroup",
				"-rw-r--r-- owner group 1000 Jul 08 11:00 nolinks",
			})
			assert.equal("owner", t[1].owner)
			assert.is_nil(t[1].group)
			assert.equal(1, t[1].links)
			assert.equal("nogroup", t[1].name)
			assert.equal("owner", t[2].owner)
			assert.equal("group", t[2].group)
			assert.is_nil(t[2].links)
			assert.equal(1000, t[2].size)
		end)
	end)

	describe("list, DOS/IIS style", function()
		it("parses the brief's IIS lines", function()
			local t = listing.list(crlf {
				"07-08-14  11:00AM       <DIR>          TEST",
				"07-08-14  11:00AM              1000 a.txt",
			})
			assert.same({
				name = "TEST", type = "dir", mtime_text = "07-08-14 11:00AM",
				mtime = { month = 7, day = 8, year = 2014, hour = 11, min = 0 },
				raw = "07-08-14  11:00AM       <DIR>          TEST",
			}, t[1])
			assert.same({
				name = "a.txt", type = "file", size = 1000, mtime_text = "07-08-14 11:00AM",
				mtime = { month = 7, day = 8, year = 2014, hour = 11, min = 0 },
				raw = "07-08-14  11:00AM              1000 a.txt",
			}, t[2])
		end)

		it("handles PM, 12AM, four-digit years, 24-hour times and spaces in names", function()
			local t = listing.list(crlf {
				"12-31-13  11:59PM             10485760 big file.bin",
				"01-02-2015  12:05AM       <DIR>          Four Digit Year",
				"03-04-99  13:45                 77 old name.txt",
			})
			assert.equal("big file.bin", t[1].name)
			assert.equal(10485760, t[1].size)
			assert.same({ month = 12, day = 31, year = 2013, hour = 23, min = 59 }, t[1].mtime)
			assert.equal("Four Digit Year", t[2].name)
			assert.same({ month = 1, day = 2, year = 2015, hour = 0, min = 5 }, t[2].mtime)
			assert.equal("old name.txt", t[3].name)
			assert.equal(1999, t[3].mtime.year)
			assert.equal(13, t[3].mtime.hour)
		end)
	end)

	describe("list, everything else", function()
		it("keeps unknown lines as {raw = line}", function()
			local lines = {
				"garbage here",
				"drwx",
				"-rw-r--r-- 1 u g x Jul 08 11:00 badsize",
				"-rw-r--r-- 1 u g 5 Foo 08 11:00 badmonth",
				"-rw-r--r-- 1 u g 5 Jul 08 11:00",
				"07-08-14  11:00AM  nonsense",
				"07-08-1  11:00AM  5 x",
				"\0\1\2",
			}
			local t = listing.list(table.concat(lines, "\n"))
			assert.equal(#lines, #t)
			for i, l in ipairs(lines) do
				assert.same({ raw = l }, t[i])
			end
		end)

		it("accepts LF endings, a missing final newline and blank lines", function()
			local t = listing.list("\n-rw-r--r-- 1 u g 5 Jul 08 11:00 a\n\n-rw-r--r-- 1 u g 6 Jul 08 11:00 b")
			assert.equal(2, #t)
			assert.equal("a", t[1].name)
			assert.equal("b", t[2].name)
			assert.equal(6, t[2].size)
		end)

		it("strips every trailing CR but keeps the name otherwise", function()
			local t = listing.list("-rw-r--r-- 1 u g 5 Jul 08 11:00 a\r\r\n")
			assert.equal("a", t[1].name)
		end)

		it("skips only real total lines", function()
			local t = listing.list("total 0\r\ntotal\r\n")
			assert.same({ { raw = "total" } }, t)
		end)

		it("returns an empty list for an empty listing", function()
			assert.same({}, listing.list(""))
			assert.same({}, listing.list("\r\n"))
		end)

		it("gives nil, err for a non-string", function()
			local v, e = listing.list(nil)
			assert.is_nil(v)
			assert.is_true(errors.is(e))
			assert.equal("protocol", e.name)
		end)
	end)

	describe("nlst", function()
		it("returns the names as given", function()
			assert.same({ "a.txt", "TEST", "my file.txt" }, listing.nlst("a.txt\r\nTEST\r\nmy file.txt\r\n"))
		end)

		it("keeps server prefixes and spaces, drops CR and empty lines", function()
			assert.same({ "./x", "dir/a.txt", " lead", "trail " },
				listing.nlst("./x\r\n\r\ndir/a.txt\n lead\r\ntrail "))
		end)

		it("handles empty payloads and non-strings", function()
			assert.same({}, listing.nlst(""))
			assert.same({}, listing.nlst("\r\n\r\n"))
			local v, e = listing.nlst(5)
			assert.is_nil(v)
			assert.equal("protocol", e.name)
		end)
	end)

	describe("mlsd", function()
		it("parses pyftpdlib", function()
			local t = listing.mlsd(crlf {
				"type=dir;perm=elcmfpd;modify=20140708110000; TEST",
				"type=file;size=1000;perm=radfwMT;modify=20140708110039; test.txt",
				"type=file;size=0;perm=radfwMT;modify=20131231235959; empty file",
			})
			assert.equal(3, #t)
			assert.equal("TEST", t[1].name)
			assert.equal("dir", t[1].type)
			assert.is_nil(t[1].size)
			assert.equal("elcmfpd", t[1].perm)
			assert.equal("test.txt", t[2].name)
			assert.equal("file", t[2].type)
			assert.equal(1000, t[2].size)
			assert.equal("radfwMT", t[2].perm)
			assert.equal("20140708110039", t[2].mtime_text)
			assert.equal(1404817239, t[2].modify.epoch)
			assert.equal("empty file", t[3].name)
			assert.equal(0, t[3].size)
			assert.same({ type = "file", size = "1000", perm = "radfwMT", modify = "20140708110039" }, t[2].facts)
		end)

		it("parses ProFTPD (cdir, pdir, UNIX facts, symlink)", function()
			local t = listing.mlsd(crlf {
				"modify=20140708110000;perm=flcdmpe;type=cdir;unique=FD00U2A;UNIX.group=1000;UNIX.groupname=ftp;UNIX.mode=0755;UNIX.owner=1000;UNIX.ownername=ftp; .",
				"modify=20140701091200;perm=flcdmpe;type=pdir;unique=FD00U2;UNIX.group=1000;UNIX.groupname=ftp;UNIX.mode=0755;UNIX.owner=1000;UNIX.ownername=ftp; ..",
				"modify=20140708110039;perm=adfrw;size=1000;type=file;unique=FD00U2B;UNIX.group=1000;UNIX.groupname=ftp;UNIX.mode=0644;UNIX.owner=1000;UNIX.ownername=ftp; test.txt",
				"modify=20140708110039;perm=adfrw;size=8;type=OS.unix=symlink;unique=FD00U2C;UNIX.group=1000;UNIX.groupname=ftp;UNIX.mode=0777;UNIX.owner=1000;UNIX.ownername=ftp; latest",
			})
			assert.equal(4, #t)
			assert.equal("cdir", t[1].type)
			assert.equal(".", t[1].name)
			assert.equal("pdir", t[2].type)
			assert.equal("..", t[2].name)
			local f = t[3]
			assert.equal("file", f.type)
			assert.equal(1000, f.size)
			assert.equal("0644", f.mode)
			assert.equal("ftp", f.owner)
			assert.equal("ftp", f.group)
			assert.equal("FD00U2B", f.unique)
			assert.equal("1000", f.facts["unix.owner"])
			assert.equal("link", t[4].type)
			assert.is_nil(t[4].target)
			-- Callers filter cdir/pdir.
			local real = {}
			for _, e in ipairs(t) do
				if e.type ~= "cdir" and e.type ~= "pdir" then real[#real + 1] = e.name end
			end
			assert.same({ "test.txt", "latest" }, real)
		end)

		it("parses pure-ftpd (sizd, uid/gid, slink target)", function()
			local t = listing.mlsd(crlf {
				"type=cdir;sizd=4096;modify=20140708110000;UNIX.mode=0755;UNIX.uid=1000;UNIX.gid=1000;unique=803g2a; .",
				"type=pdir;sizd=4096;modify=20140701091200;UNIX.mode=0755;UNIX.uid=1000;UNIX.gid=1000;unique=803g2; ..",
				"type=dir;sizd=4096;modify=20140708110000;UNIX.mode=0755;UNIX.uid=1000;UNIX.gid=1000;unique=803g2d; TEST",
				"type=file;size=1000;modify=20140708110039;UNIX.mode=0644;UNIX.uid=1000;UNIX.gid=1000;unique=803g2b; test.txt",
				"type=OS.unix=slink:/srv/ftp/test.txt;size=8;modify=20140708110039;UNIX.mode=0777;UNIX.uid=1000;UNIX.gid=1000;unique=803g2c; latest",
			})
			local n = by_name(t)
			assert.equal(4096, n.TEST.size)
			assert.equal("dir", n.TEST.type)
			assert.equal("1000", n["test.txt"].owner)
			assert.equal("1000", n["test.txt"].group)
			assert.equal("link", n.latest.type)
			assert.equal("/srv/ftp/test.txt", n.latest.target)
			assert.equal("cdir", n["."].type)
		end)

		-- vsftpd does not implement MLSD (it answers 500), which the EC20
		-- reports as +QFTPMLSD: 620,500; the session turns that into an
		-- error, so there is no vsftpd MLSD payload to parse.
		it("vsftpd's refusal maps to a non-retryable error", function()
			local e = errors.from_result("mlsd", 620, 500)
			assert.equal("syntax_error", e.name)
			assert.is_false(e.retryable)
		end)

		it("lowercases fact names but keeps values", function()
			local t = listing.mlsd("Type=File;Size=5;Modify=20140708110039;Perm=r; X.TXT\r\n")
			assert.equal("file", t[1].type)
			assert.equal(5, t[1].size)
			assert.equal("File", t[1].facts.type)
			assert.equal("r", t[1].perm)
			assert.equal("X.TXT", t[1].name)
		end)

		it("keeps spaces and semicolons in names after the first '; '", function()
			local t = listing.mlsd("type=file;size=5; a; b c;.txt\n")
			assert.equal("a; b c;.txt", t[1].name)
			assert.equal(5, t[1].size)
		end)

		it("keeps leading spaces and fact values with spaces", function()
			local t = listing.mlsd("type=file;UNIX.groupname=Domain Users;size=1;  two spaces\n")
			assert.equal(" two spaces", t[1].name)
			assert.equal("Domain Users", t[1].group)
		end)

		it("takes a line without facts (leading space)", function()
			local t = listing.mlsd(" just a name\r\n")
			assert.equal("just a name", t[1].name)
			assert.same({}, t[1].facts)
			assert.equal("other", t[1].type)
		end)

		it("tolerates odd facts", function()
			local t = listing.mlsd(crlf {
				"type=file;weird;size=abc;modify=notatime; odd",
				"type=OS.unix=blockdev;size=0; dev",
				"size=3; notype",
			})
			assert.equal("odd", t[1].name)
			assert.equal("", t[1].facts.weird)
			assert.is_nil(t[1].size)
			assert.is_nil(t[1].modify)
			assert.equal("notatime", t[1].mtime_text)
			assert.equal("other", t[2].type)
			assert.equal("other", t[3].type)
			assert.equal(3, t[3].size)
		end)

		it("keeps lines it cannot split as {raw = line}", function()
			local lines = { "nonsense", "type=file;size=5;", "type=file; ", "" }
			local t = listing.mlsd(table.concat(lines, "\n"))
			assert.same({ { raw = "nonsense" }, { raw = "type=file;size=5;" }, { raw = "type=file; " } }, t)
		end)

		it("parses modify with milliseconds", function()
			local t = listing.mlsd("type=file;modify=20140708110039.123; f")
			assert.equal(123, t[1].modify.msec)
		end)

		it("handles empty payloads and non-strings", function()
			assert.same({}, listing.mlsd(""))
			local v, e = listing.mlsd({})
			assert.is_nil(v)
			assert.equal("protocol", e.name)
		end)
	end)

	describe("robustness", function()
		it("never raises on random input", function()
			local alphabet = { "-rw-r--r--", "drwxr-xr-x", "l", " ", "  ", "1", "1000", "Jul", "08",
				"11:00", "2014", "->", "\r\n", "\n", "\r", "type=", "file", "dir", ";", "; ", "=",
				"modify=", "20140708110039", "size=", "<DIR>", "07-08-14", "11:00AM", "total", "\0",
				"\255", ",", "OS.unix=slink:" }
			local seed = 4242
			local function rnd(n)
				seed = (seed * 1103515245 + 12345) % 2147483648
				return seed % n + 1
			end
			for _ = 1, 3000 do
				local parts = {}
				for i = 1, rnd(16) do parts[i] = alphabet[rnd(#alphabet)] end
				local s = table.concat(parts)
				for _, f in ipairs { listing.list, listing.nlst, listing.mlsd } do
					local ok, v = pcall(f, s)
					assert.is_true(ok, string.format("raised on %q: %s", s, tostring(v)))
					assert.is_table(v)
					for _, e in ipairs(v) do
						if type(e) == "table" then assert.is_string(e.raw) else assert.is_string(e) end
					end
				end
			end
		end)
	end)
end)
