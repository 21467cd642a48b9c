@main struct Jinlin { static func main() { print("jinlin") } }
