#pragma once
// The Serve tab (issue 17): the teacher server of Run ▸ Serve Teacher… and its
// live traffic. Where it listens (copyable), what it serves (output mode and
// defenses, price), a table per API key (serve_traffic_model.h) and a chart
// of queries a second per key, both refreshed every second from the request
// log. The server runs on a worker thread (serve_worker.h); Stop, closing the
// window or destroying the panel stops it and waits for it. Beside the rate
// chart, the detectors of issue 18 (serve_detector_worker.h, on a thread of
// their own): PRADA's W with its delta line and the shift score with its
// threshold against the key's queries, for the keys selected in the table (all
// when none is), and their current values and verdict in the table.
#include "widgets/serve_detector_worker.h"
#include "widgets/serve_worker.h"

#include <QWidget>

#include <map>
#include <memory>
#include <vector>

class QAreaSeries;
class QChart;
class QLabel;
class QLineEdit;
class QLineSeries;
class QPushButton;
class QTableView;
class QThread;
class QTimer;
class QValueAxis;

namespace distillery::gui {

class ServeTrafficModel;

class ServePanel : public QWidget {
  Q_OBJECT
public:
  explicit ServePanel(QWidget* parent = nullptr);
  ~ServePanel() override; // stops the server and waits for it

  // Starts a server; false (and nothing happens) while one is running.
  bool start(const ServeOptions& options);
  bool isServing() const { return thread_ != nullptr; }
  // Asks the server to stop; finished() follows once it has.
  void stop();
  // Stops it and waits (closing the app).
  void stopAndWait();

  QString url() const { return url_; }
  QString errorText() const;
  ServeTrafficModel* trafficModel() const { return model_; }
  // Reads the log now (the timer does it every second); the detectors' poll is queued to their thread.
  void pollNow();

  // A key's detector scores as received so far: one value per answered query.
  struct KeyScores {
    std::vector<double> w;     // NaN: too few distances for W
    std::vector<double> shift; // empty without a shift reference
  };
  const std::map<QString, KeyScores>& detectorScores() const { return scores_; }
  QString detectorReference() const; // what the shift is measured against, or why there is none
  // The keys the detector chart shows now (the table's selection, else every key with scores).
  QStringList detectorKeys() const;
  // The series the detector chart draws for a key ("W" or "shift"), after decimation; null if not shown.
  const QLineSeries* detectorSeries(const QString& key, const QString& which) const;

Q_SIGNALS:
  void listening(const QString& url);
  // The detectors' scores grew (or started over).
  void detectorsUpdated();
  void failed(const QString& message);
  void finished();

private:
  void onListening(const distillery::gui::ServeStarted& started);
  void onFailed(const QString& message);
  void onFinished();
  void updateChart();
  void setError(const QString& message);
  void onDetectorUpdate(const distillery::gui::DetectorUpdate& update);
  void onDetectorReference(const QString& description, bool hasShift);
  void pickShiftData();
  void updateDetectorChart();

  ServeTrafficModel* model_ = nullptr;
  QThread* thread_ = nullptr;
  std::unique_ptr<ServeWorker> worker_;
  QTimer* timer_ = nullptr;
  QString url_;
  QString storePath_;

  QLabel* state_ = nullptr;
  QLineEdit* urlEdit_ = nullptr;
  QPushButton* copyButton_ = nullptr;
  QPushButton* stopButton_ = nullptr;
  QLabel* served_ = nullptr;
  QLabel* error_ = nullptr;
  QTableView* table_ = nullptr;
  QChart* chart_ = nullptr;
  QValueAxis* xAxis_ = nullptr;
  QValueAxis* yAxis_ = nullptr;
  std::map<QString, QLineSeries*> series_;
  std::map<QString, int> keyColors_; // the rate chart's colour index per key, shared by the detector chart

  // The detectors (issue 18).
  QThread* detectorThread_ = nullptr;
  ServeDetectorWorker* detector_ = nullptr; // lives on detectorThread_
  bool detectorPollPending_ = false;        // one poll queued at a time
  std::map<QString, KeyScores> scores_;
  QLabel* reference_ = nullptr;
  QPushButton* pickData_ = nullptr;
  QChart* detectorChart_ = nullptr;
  QValueAxis* queryAxis_ = nullptr;
  QValueAxis* wAxis_ = nullptr;
  QValueAxis* shiftAxis_ = nullptr;
  QLineSeries* deltaLine_ = nullptr;
  QLineSeries* thresholdLine_ = nullptr;
  struct KeyLines {
    QLineSeries* w = nullptr;
    QLineSeries* shift = nullptr;
    QAreaSeries* gap = nullptr; // the queries where W is undefined (too few distances)
  };
  std::map<QString, KeyLines> lines_;
  int colorOf(const QString& key);
};

// The output mode and the defenses in front of it, in a line: "topk (k=3) after gaussian_noise (sigma=0.05)".
QString describeServeOutput(const nlohmann::json& output);
// /v1/info's teacher object in a few words: "run #3", or the TorchScript file's name.
QString describeServedTeacher(const QString& teacherJson);

} // namespace distillery::gui
