-- modemftp.options and modemftp.config: the command line and the
-- configuration as modules of their own (cli_args_spec covers the parsing
-- rules; these cover the modules' contracts and the layer between them).
local options = require "modemftp.options"
local config = require "modemftp.config"
local errors = require "modemftp.errors"
local helper = require "spec.helper_pure"

describe("modemftp.options", function()
	helper.module_hygiene(_ENV, "modemftp.options", "lua/modemftp/options.lua", function(o)
		o.to_conf(assert(o.parse("run", { "-p", "x", "--baud", "9600", "j" }, true)))
		o.parse("console", { "--nope" })
	end)

	it("gives every failure as a usage error object", function()
		for _, argv in ipairs { { "--nope" }, { "--port" }, { "-o", "x" }, { "-qZ" }, { "--rtscts=1" } } do
			local o, err = options.parse("run", argv, true)
			assert.is_nil(o)
			assert.is_true(errors.is(err), table.concat(argv, " "))
			assert.same({ "usage", false }, { err.name, err.retryable })
		end
	end)

	it("keeps operands apart, after -- too, and collects them all without stop_at_operand", function()
		local o, rest = options.parse("console", { "a", "-v", "b", "--", "-c" })
		assert.is_true(o.verbose)
		assert.same({ "a", "b", "-c" }, rest)
	end)

	it("turns the options that are configuration keys into typed settings", function()
		local o = assert(options.parse("run", { "-p", "tty:/dev/x", "--baud", "57600", "--rtscts", "--guard", "0.5",
			"--lock-timeout", "3", "--lock-dir", "/l", "-t", "9", "-o", "user=u", "j" }, true))
		assert.same({ port = "tty:/dev/x", baud = 57600, rtscts = true, guard = 0.5, lock_timeout = 3,
			lock_dir = "/l", timeout = 9, user = "u" }, options.to_conf(o))
		local set, err = options.to_conf(assert(options.parse("run", { "--baud", "fast", "j" }, true)))
		assert.is_nil(set)
		assert.same({ "usage", '--baud: baud: expected an integer, got "fast"' }, { err.name, err.message })
	end)
end)

describe("modemftp.config", function()
	helper.module_hygiene(_ENV, "modemftp.config", "lua/modemftp/config.lua", function(c)
		c.parse("a = 1\nbaud = 2\n", "x")
		c.value("rtscts", "yes")
		c.files()
		c.secrets { password = "p" }
	end)

	it("types values by key and says what it expected", function()
		assert.same({ true, 7, 1.5, "x" }, { config.value("ssl", "on"), config.value("ftp_port", "7"),
			config.value("timeout", "1.5"), config.value("custom", "x") })
		for key, text in pairs { ssl = "maybe", ftp_port = "7.5", timeout = "-1" } do
			local v, err = config.value(key, text)
			assert.is_nil(v)
			assert.equal("usage", err.name)
			assert.truthy(err.message:find(key .. ": expected", 1, true))
		end
	end)

	it("spells keys one way", function()
		assert.equal("lock_timeout", config.key("Lock-Timeout"))
		assert.equal("ftp_port", config.key("ftp.port"))
	end)

	it("finds the secrets: values of keys naming a password or a secret", function()
		local s = config.secrets { password = "p1", apn_password = "p2", api_secret = "p3", user = "u", empty_password = "" }
		table.sort(s)
		assert.same({ "p1", "p2", "p3" }, s)
	end)
end)

describe("modemftp.options and config: --metrics", function()
	it("is a configuration key too", function()
		local o = assert(options.parse("run", { "--metrics", "/m/job.prom", "j" }, true))
		assert.same({ metrics = "/m/job.prom" }, options.to_conf(o))
		assert.same({ metrics = "x.prom" }, config.parse("metrics = x.prom\n", "f"))
	end)

	it("is an option of run only", function()
		assert.is_nil((options.parse("console", { "--metrics", "x" })))
	end)
end)

describe("modemftp.options and config: --max-temp-failures, --state-dir", function()
	it("are configuration keys too, typed", function()
		local o = assert(options.parse("run", { "--max-temp-failures", "8", "--state-dir", "/var/lib/modemftp", "j" }, true))
		assert.same({ max_temp_failures = 8, state_dir = "/var/lib/modemftp" }, options.to_conf(o))
		assert.same({ max_temp_failures = 3 }, config.parse("max_temp_failures = 3\n", "f"))
	end)

	it("take a count of 0 or more", function()
		assert.equal(0, config.value("max_temp_failures", "0"))
		for _, bad in ipairs { "-1", "2.5", "many" } do
			local v, err = config.value("max_temp_failures", bad)
			assert.is_nil(v)
			assert.same({ "usage", 'max_temp_failures: expected a whole number, 0 or more, got "' .. bad .. '"' },
				{ err.name, err.message })
		end
		local set, err = options.to_conf(assert(options.parse("run", { "--max-temp-failures", "x", "j" }, true)))
		assert.is_nil(set)
		assert.equal('--max-temp-failures: max_temp_failures: expected a whole number, 0 or more, got "x"', err.message)
	end)
end)
