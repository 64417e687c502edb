-- modemftp.transfer: the one transfer sequence (port call, dispatch,
-- failure mapping, result check) against a mock modem whose port returns
-- what each spec says, and which records the order of the calls.
local transfer = require "modemftp.transfer"
local errors = require "modemftp.errors"
local helper = require "spec.helper_pure"

-- A modem whose port:put/port:get return `...`; m.log lists the calls.
local function mock(...)
	local ret = table.pack(...)
	local m = { log = {}, noted = {} }
	local function move(kind)
		return function(_, cmd, endpoint, o)
			m.log[#m.log + 1] = kind
			m.cmd, m.endpoint, m.options = cmd, endpoint, o
			return table.unpack(ret, 1, ret.n)
		end
	end
	m.port = { put = move("put"), get = move("get") }
	function m.dispatch() m.log[#m.log + 1] = "dispatch" end
	function m.note(_, err)
		m.noted[#m.noted + 1] = err
		return err
	end
	return m
end

local PUT = { op = "put", cmd = 'AT+QFTPPUT="a.txt","COM:",0,5,1', target = "a.txt", source = "hello",
	result = "+QFTPPUT" }

local function put(m, extra)
	local t = { options = { length = 5 } }
	for k, v in pairs(PUT) do t[k] = v end
	for k, v in pairs(extra or {}) do t[k] = v end
	return transfer.put(m, t)
end

describe("modemftp.transfer", function()
	helper.module_hygiene(_ENV, "modemftp.transfer", "lua/modemftp/transfer.lua", function(t)
		local m = mock(5, { result = "+QFTPPUT: 0,5" })
		assert.equal(5, t.put(m, { op = "put", cmd = "AT", result = "+QFTPPUT" }))
	end)

	it("moves the bytes, dispatches the URCs, returns the count and the module's", function()
		local m = mock(5, { result = "+QFTPPUT: 0,5" })
		local n, count = put(m)
		assert.equal(5, n)
		assert.equal(5, count)
		assert.same({ "put", "dispatch" }, m.log)
		assert.equal(PUT.cmd, m.cmd)
		assert.equal("hello", m.endpoint)
		assert.same({ length = 5, result = "+QFTPPUT" }, m.options)
	end)

	it("downloads into the sink and hands back collected data", function()
		local m = mock(3, { result = "+QFTPGET: 0,3" }, "abc")
		local n, count, data = transfer.get(m, { op = "get", cmd = "AT+QFTPGET", target = "b", result = "+QFTPGET" })
		assert.same({ 3, 3, "abc" }, { n, count, data })
		assert.same({ "get", "dispatch" }, m.log)
		assert.is_nil(m.endpoint)
	end)

	it("turns an error result into the EC20 code, with bytes, target and command", function()
		local m = mock(5, { result = "+QFTPPUT: 627,550" })
		local n, err = put(m)
		assert.is_nil(n)
		assert.is_true(errors.is(err))
		assert.same({ "put", 627, 550, 5, "a.txt", PUT.cmd },
			{ err.op, err.code, err.protocol_error, err.bytes, err.target, err.command })
		assert.same({}, m.noted)
	end)

	it("says a garbled result line is a protocol error of this operation", function()
		local _, err = put(mock(5, { result = "+QFTPPUT: what" }))
		assert.same({ "protocol", "put", "a.txt" }, { err.name, err.op, err.target })
	end)

	it("takes the module's own code from a failed transfer's trailer", function()
		local m = mock(nil, { kind = "timeout", message = "no data for 90 s", bytes = 7, result = "+QFTPGET: 607,0" })
		local n, err = transfer.get(m, { op = "get", cmd = "AT+QFTPGET", target = "big", result = "+QFTPGET" })
		assert.is_nil(n)
		assert.same({ 607, 7, "no data for 90 s", "big" }, { err.code, err.bytes, err.detail, err.target })
		assert.is_true(err.retryable)
		assert.same({ "get", "dispatch" }, m.log)
		assert.same({}, m.noted)
	end)

	it("maps a failure without a module code through transfer.fail and notes it on the modem", function()
		local m = mock(nil, { kind = "closed", message = "port closed (after 3 bytes)", bytes = 3 })
		local _, err = put(m)
		assert.same({ "closed", 3, "port closed", PUT.cmd }, { err.name, err.bytes, err.message, err.command })
		assert.same({ err }, m.noted)
	end)

	it("names a restart and a lost PDP context from the final line (core.line_class)", function()
		local _, err = put(mock(nil, { kind = "modem", final = "RDY", bytes = 0 }))
		assert.equal("rebooted", err.name)
		_, err = put(mock(nil, { kind = "modem", final = '+QIURC: "pdpdeact",1' }))
		assert.equal("pdp_deactivated", err.name)
		assert.is_true(err.retryable)
	end)

	it("reads the RAM file system's own result lines", function()
		local n, size, checksum = transfer.put(mock(10, { result = "+QFUPL: 10,3fa" }),
			{ op = "ram_upload", cmd = "AT+QFUPL", target = "RAM:x", source = "0123456789", result = "+QFUPL" })
		assert.same({ 10, 10, "3fa" }, { n, size, checksum })
		local _, err = transfer.put(mock(10, { result = "+QFUPL: nonsense" }),
			{ op = "ram_upload", cmd = "AT+QFUPL", target = "RAM:x", source = "x", result = "+QFUPL" })
		assert.same({ "protocol", "ram_upload", "RAM:x" }, { err.name, err.op, err.target })
		local got, ok, data = transfer.get(mock(2, { result = "+QFDWL: 2,1a" }, "hi"),
			{ op = "ram_download", cmd = "AT+QFDWL", target = "RAM:x", result = "+QFDWL" })
		assert.same({ 2, true, "hi" }, { got, ok, data })
	end)

	it("reads a command's result line the same way (transfer.result)", function()
		assert.equal(1000, transfer.result("size", "+QFTPSIZE: 0,1000", "+QFTPSIZE"))
		local v, err = transfer.result("size", "+QFTPSIZE: 627,550", "+QFTPSIZE", { target = "nope" })
		assert.is_nil(v)
		assert.same({ "size", 627, "nope" }, { err.op, err.code, err.target })
	end)
end)
