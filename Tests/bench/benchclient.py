"""The benchmark scripts' HTTP client: one kept-alive connection with its cookies."""
import http.client
import re
import urllib.parse


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.cookies = {}
        self.headers = []  # the last response's


    def request(self, method, path, body=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        self.headers = response.getheaders()
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                key, _, rest = value.split(";")[0].partition("=")
                if rest:
                    self.cookies[key] = rest
                else:
                    self.cookies.pop(key, None)
        return response.status, text

    def server_total_ms(self):
        """The handler's own time from the last response's Server-Timing `total` (a server
        started with JINLIN_SERVER_TIMING=1), or None."""
        for name, value in self.headers:
            if name.lower() == "server-timing":
                found = re.search(r"total;dur=([0-9.]+)", value)
                if found:
                    return float(found.group(1))
        return None

    def sign_in(self, username, password):
        """Signs in through the login form; True when the server accepted it."""
        _, page = self.request("GET", "/login")
        token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
        status, _ = self.request("POST", "/login", urllib.parse.urlencode(
            {"username": username, "password": password, "_csrf": token}))
        return status == 303

    def sign_in_admin(self, password_path):
        """Signs in as `admin` with the password kept in `password_path`. A fresh seed's admin
        must change the printed password first: it is changed (to the old one + "-x") and the
        new one kept in the file, for the next run and the other benchmarks."""
        with open(password_path) as f:
            password = f.read().strip()
        if not self.sign_in("admin", password):
            raise SystemExit(f"sign-in as admin failed (password from {password_path})")
        status, _ = self.request("GET", "/")
        if status == 303:
            _, page = self.request("GET", "/account/password")
            token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
            self.request("POST", "/account/password", urllib.parse.urlencode(
                {"current_password": password, "new_password": password + "-x", "confirm_password": password + "-x",
                 "_csrf": token}))
            with open(password_path, "w") as f:
                f.write(password + "-x")
