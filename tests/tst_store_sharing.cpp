// Sharing a run store (issue 15's blocker): the GUI holds a store open while
// a file dialog shows the store's folder and the CLI opens the same file.
// SQLite's locks are POSIX record locks, which a process loses when it closes
// any descriptor of the file; the CLI then took itself for the last user and
// deleted store.sqlite-wal and -shm under the GUI, whose next edits vanished.
//
// Also here: file dialogs that start in the last folder used (item 25), and
// runs written by another connection showing up without Refresh (item 23).
#include "core/base/errors.h"
#include "core/store/run_store.h"
#include "widgets/file_dialogs.h"
#include "widgets/run_table_model.h"

#include "test_support.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileSystemModel>
#include <QProcess>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace distillery;
using namespace distillery::gui;

namespace {

// How many POSIX locks this process holds on `file`, as /proc/locks lists
// them: "1: POSIX  ADVISORY  READ 1234 08:01:5678 128 128".
int locksHeldOn(const QString& file) {
  struct stat st {};
  if (::stat(QFile::encodeName(file).constData(), &st) != 0) return 0;
  QFile locks("/proc/locks");
  if (!locks.open(QIODevice::ReadOnly)) return -1;
  const QString pid = QString::number(::getpid());
  const QString inodeSuffix = QStringLiteral(":%1").arg(qulonglong(st.st_ino));
  int held = 0;
  for (const QByteArray& line : locks.readAll().split('\n')) {
    const QStringList f = QString::fromLatin1(line).split(QLatin1Char(' '), Qt::SkipEmptyParts);
    if (f.size() >= 6 && f[4] == pid && f[5].endsWith(inodeSuffix)) ++held;
  }
  return held;
}

// What a content sniffer does with every file of a folder it shows.
void sniff(const QString& file) {
  const int fd = ::open(QFile::encodeName(file).constData(), O_RDONLY);
  QVERIFY2(fd >= 0, qPrintable(file));
  char head[16];
  QVERIFY(::read(fd, head, sizeof head) >= 0);
  ::close(fd);
}

std::vector<MetricPoint> points(int64_t run, int n) {
  std::vector<MetricPoint> out;
  for (int i = 0; i < n; ++i) out.push_back(testsupport::point(run, "train_loss", i, 1.0 / (i + 1)));
  return out;
}

} // namespace

class TestStoreSharing : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  QTemporaryDir settingsDir_;

  QString freshFolder(const QString& name) {
    const QString folder = dir_.filePath(name);
    QDir().mkpath(folder);
    return folder;
  }

  // Shows a dialog built by the app's helper on `folder`, waits until its
  // model has listed the folder and asks it for every entry's icon and type.
  void showDialogOn(const QString& folder) {
    std::unique_ptr<QFileDialog> dialog(createFileDialog(nullptr, "Export report", folder + "/report.html",
                                                         "All files (*)", QFileDialog::AcceptSave,
                                                         QFileDialog::AnyFile));
    auto* model = dialog->findChild<QFileSystemModel*>();
    QVERIFY(model);
    QSignalSpy loaded(model, &QFileSystemModel::directoryLoaded);
    dialog->show();
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() > 0 && model->rowCount(model->index(folder)) >= 3, 10000);
    const QModelIndex root = model->index(folder);
    for (int row = 0; row < model->rowCount(root); ++row) {
      const QModelIndex entry = model->index(row, 0, root);
      model->data(entry, Qt::DecorationRole);
      model->type(entry);
    }
    QTest::qWait(300); // the model fetches icons on a thread of its own
    dialog->hide();
  }

  // A SQLite client that is not Distillery (Python's), opening the store
  // once: when it believes it is the last user it deletes -wal and -shm.
  bool foreignClientOpens(const QString& db) {
    QProcess p;
    p.start("python3", {"-c",
                        "import sqlite3, sys\n"
                        "c = sqlite3.connect(sys.argv[1])\n"
                        "c.execute('SELECT count(*) FROM runs').fetchone()\n"
                        "c.close()\n",
                        db});
    return p.waitForFinished(60000) && p.exitCode() == 0;
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    // The remembered folder lives in QSettings: keep the user's file out of it.
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir_.path());
    QCoreApplication::setOrganizationName("DistilleryTest");
    QCoreApplication::setApplicationName("tst_store_sharing");
  }

  // The app's file dialogs read no file content: showing the store's folder
  // leaves the GUI's SQLite locks on the store and its -shm file in place.
  void fileDialogKeepsTheStoreLocks() {
    const QString folder = freshFolder("dialog");
    const QString db = folder + "/store.sqlite";
    RunStore store(db.toStdString());
    store.createRun("a", "distill", "{}");
    QVERIFY(QFile::exists(db + "-wal") && QFile::exists(db + "-shm"));
    const int dbLocks = locksHeldOn(db), shmLocks = locksHeldOn(db + "-shm");
    QVERIFY2(dbLocks > 0 && shmLocks > 0, "SQLite holds a shared lock on the store and one on -shm");

    showDialogOn(folder);

    QCOMPARE(locksHeldOn(db), dbLocks);
    QCOMPARE(locksHeldOn(db + "-shm"), shmLocks);
  }

  // The steps: the GUI holds the store, a dialog shows its folder and
  // a sniffer opens and closes the store's files, then the CLI opens the
  // store. The WAL must survive, and the GUI's next edits must land.
  void cliKeepsTheWalOfASniffedStore() {
    const QString folder = freshFolder("cli");
    const QString db = folder + "/store.sqlite";
    auto gui = std::make_unique<RunStore>(db.toStdString());
    const int64_t first = gui->createRun("first", "distill", "{}");
    gui->createRun("second", "distill", "{}");
    gui->appendPoints(points(first, 20));

    showDialogOn(folder);
    for (const QString& file : {db, db + "-wal", db + "-shm"}) sniff(file);
    QCOMPARE(locksHeldOn(db), 0); // what the sniffer did: this process's locks are gone

    const testsupport::ProcessResult cli = testsupport::runCli({"runs", "--db", db}, 60000);
    QVERIFY2(cli.code == 0, qPrintable(cli.err));
    QVERIFY2(QFile::exists(db + "-wal"), "the CLI deleted the WAL the GUI writes into");
    QVERIFY(QFile::exists(db + "-shm"));

    gui->setStarred(first, true);
    const int64_t third = gui->createRun("third", "distill", "{}");
    gui->appendPoints(points(third, 30));
    {
      RunStore check(db.toStdString());
      QVERIFY(check.run(first) && check.run(first)->starred);
      QVERIFY(check.run(third));
      QCOMPARE(check.pointCount(third), int64_t(30));
      QCOMPARE(QString::fromStdString(check.integrityCheck()), QString("ok"));
    }
    gui.reset(); // and after a restart
    RunStore restarted(db.toStdString());
    QVERIFY(restarted.run(first)->starred);
    QCOMPARE(restarted.pointCount(third), int64_t(30));
    QCOMPARE(restarted.pointCount(first), int64_t(20));
    QCOMPARE(QString::fromStdString(restarted.integrityCheck()), QString("ok"));
  }

  // Another program (not Distillery) deletes -wal and -shm after the locks
  // were lost: the store reopens its connection and the edit lands.
  void editAfterAForeignClientDeletedTheWalLands() {
    const QString folder = freshFolder("foreign");
    const QString db = folder + "/store.sqlite";
    auto gui = std::make_unique<RunStore>(db.toStdString());
    const int64_t run = gui->createRun("kept", "distill", "{}");
    gui->appendPoints(points(run, 10));
    sniff(db);
    QVERIFY(foreignClientOpens(db));
    QVERIFY2(!QFile::exists(db + "-wal"), "precondition: the foreign client deleted the WAL");

    gui->setStarred(run, true);
    const int64_t next = gui->createRun("after", "distill", "{}");
    gui->appendPoints(points(next, 5));
    QVERIFY(QFile::exists(db + "-wal"));
    {
      RunStore check(db.toStdString());
      QVERIFY(check.run(run)->starred);
      QCOMPARE(check.pointCount(run), int64_t(10));
      QCOMPARE(check.pointCount(next), int64_t(5));
    }
    gui.reset();
    RunStore restarted(db.toStdString());
    QVERIFY(restarted.run(run)->starred);
    QCOMPARE(restarted.pointCount(next), int64_t(5));
    QCOMPARE(QString::fromStdString(restarted.integrityCheck()), QString("ok"));
  }

  // With a second connection in the process (a run's worker), a reopen would
  // share the deleted files' mapping: the edit fails with a clear error
  // instead of vanishing, and nothing stored before is lost.
  void editWhileAnotherConnectionHoldsADeletedWalFailsClearly() {
    const QString folder = freshFolder("foreign2");
    const QString db = folder + "/store.sqlite";
    auto gui = std::make_unique<RunStore>(db.toStdString());
    auto worker = std::make_unique<RunStore>(db.toStdString());
    const int64_t run = gui->createRun("kept", "distill", "{}");
    worker->appendPoints(points(run, 10));
    sniff(db);
    QVERIFY(foreignClientOpens(db));
    QVERIFY(!QFile::exists(db + "-wal"));

    try {
      gui->setStarred(run, true);
      QFAIL("the edit went into a deleted WAL without an error");
    } catch (const StoreError& e) {
      const QString message = QString::fromUtf8(e.what());
      QVERIFY2(message.contains(db) && message.contains("deleted") && message.contains("Restart"),
               qPrintable(message));
    }
    worker.reset();
    gui.reset();
    RunStore restarted(db.toStdString());
    QCOMPARE(restarted.pointCount(run), int64_t(10));
    QCOMPARE(QString::fromStdString(restarted.integrityCheck()), QString("ok"));
    restarted.setStarred(run, true); // after the restart the edit goes through
    QVERIFY(restarted.run(run)->starred);
  }

  // Item 25: export dialogs start in the last folder used, remembered across
  // restarts; the first time in the store's folder, not the home folder.
  void dialogStartsInTheLastFolderUsed() {
    QSettings().remove("fileDialogs/lastFolder");
    const QString storeFolder = freshFolder("store-folder");
    const QString exports = freshFolder("exports");
    setDefaultDialogFolder(storeFolder);

    std::unique_ptr<QFileDialog> first(createFileDialog(nullptr, "Export report", "report.html", "HTML (*.html)",
                                                        QFileDialog::AcceptSave, QFileDialog::AnyFile));
    QCOMPARE(QDir(first->directory()).canonicalPath(), QDir(storeFolder).canonicalPath());

    // Save through the modal dialog as a user would: type a path, press Save.
    QTimer::singleShot(0, [exports] {
      auto* dialog = qobject_cast<QFileDialog*>(QApplication::activeModalWidget());
      if (!dialog) return;
      dialog->selectFile(exports + "/report.html");
      static_cast<QDialog*>(dialog)->accept(); // public in QDialog
    });
    const QString chosen = saveFileName(nullptr, "Export report", "report.html", "HTML (*.html)");
    QCOMPARE(chosen, exports + "/report.html");

    // A restart: the default folder is set again, the remembered one wins.
    setDefaultDialogFolder(storeFolder);
    QSettings reread(QSettings::NativeFormat, QSettings::UserScope, "DistilleryTest", "tst_store_sharing");
    QCOMPARE(reread.value("fileDialogs/lastFolder").toString(), exports);
    std::unique_ptr<QFileDialog> next(createFileDialog(nullptr, "Export model", "run3.pt", "TorchScript (*.pt)",
                                                       QFileDialog::AcceptSave, QFileDialog::AnyFile));
    QCOMPARE(QDir(next->directory()).canonicalPath(), QDir(exports).canonicalPath());
    QVERIFY(!next->selectedFiles().isEmpty());
    QCOMPARE(next->selectedFiles().constFirst(), exports + "/run3.pt");

    // A folder that no longer exists falls back to the store's folder.
    QVERIFY(QDir(exports).removeRecursively());
    std::unique_ptr<QFileDialog> gone(createFileDialog(nullptr, "Export report", "report.html", "HTML (*.html)",
                                                       QFileDialog::AcceptSave, QFileDialog::AnyFile));
    QCOMPARE(QDir(gone->directory()).canonicalPath(), QDir(storeFolder).canonicalPath());
  }

  // Item 23: a run written by another connection (the CLI, another window)
  // appears in the run table without pressing Refresh.
  void runsWrittenElsewhereAppearWithoutRefresh() {
    const QString db = freshFolder("watch") + "/store.sqlite";
    RunStore guiStore(db.toStdString());
    guiStore.createRun("mine", "distill", "{}");
    RunTableModel model(guiStore);
    model.refresh();
    QCOMPARE(model.rowCount(), 1);

    RunStore cli(db.toStdString());
    const int64_t id = cli.createRun("from the CLI", "distill", "{}");
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 2, 5000);
    QCOMPARE(model.runIdAt(0), id);
    cli.setStatus(id, RunStatus::Finished);
    QTRY_COMPARE_WITH_TIMEOUT(model.statusText(id), QString("finished"), 5000);
  }
};

QTEST_MAIN(TestStoreSharing)
#include "tst_store_sharing.moc"
