//! `list_files`: a file, a folder (recursive, sorted, hidden files skipped) and a prefix.

use std::fs;
use std::path::{Path, PathBuf};

use nereid_loader::list_files;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "nereid-loader-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn touch(dir: &Path, rel: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, ":ID\n").unwrap();
}

fn names(dir: &Path, files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| {
            f.strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

#[test]
fn a_file_is_itself() {
    let dir = temp_dir("src-file");
    touch(&dir, "nodes.csv");
    let files = list_files(&dir.join("nodes.csv")).unwrap();
    assert_eq!(files, vec![dir.join("nodes.csv")]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_is_its_files_recursively_sorted_without_hidden_ones() {
    let dir = temp_dir("src-dir");
    touch(&dir, "b.csv");
    touch(&dir, "a.csv.gz");
    touch(&dir, "sub/c.csv");
    touch(&dir, ".hidden.csv");
    touch(&dir, ".git/config");
    fs::create_dir_all(dir.join("empty")).unwrap();
    let files = list_files(&dir).unwrap();
    assert_eq!(names(&dir, &files), vec!["a.csv.gz", "b.csv", "sub/c.csv"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn anything_else_is_a_prefix_in_the_parent_folder() {
    let dir = temp_dir("src-prefix");
    touch(&dir, "movies-nodes.csv");
    touch(&dir, "movies-rels.csv");
    touch(&dir, "movies-more/x.csv");
    touch(&dir, "people.csv");
    touch(&dir, ".movies-hidden.csv");
    let files = list_files(&dir.join("movies-")).unwrap();
    assert_eq!(
        names(&dir, &files),
        vec!["movies-more/x.csv", "movies-nodes.csv", "movies-rels.csv"]
    );
    assert!(list_files(&dir.join("zebra")).unwrap().is_empty());
    assert!(list_files(&dir.join("no-such-folder/x")).is_err());
    fs::remove_dir_all(&dir).unwrap();
}
